"""Small things a new user notices: the site's icon, and a word after signing out."""

import pytest
from django.contrib.staticfiles import finders

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/admin/login/"])
def test_pages_link_the_favicon_which_exists(client, path):
    """The portal's and the admin's pages name an icon that is among the static files."""
    body = client.get(path).content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in body
    assert finders.find("img/favicon.svg")


def test_signing_out_says_so(client):
    """After logging out the home page says "You have signed out" (the session is gone, the
    message is not)."""
    customer = factories.CustomerFactory()
    client.force_login(customer)
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "You have signed out." in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_the_admin_log_out_button_uses_the_portal_log_out(client):
    """The admin's "Log out" posts to the portal's log-out, so staff get the same message."""
    staff = factories.StaffFactory(is_superuser=True)
    client.force_login(staff)
    body = client.get("/admin/").content.decode()
    assert 'id="logout-form" method="post" action="/accounts/logout/"' in body
    response = client.post("/accounts/logout/", follow=True)
    assert "You have signed out." in response.content.decode()
