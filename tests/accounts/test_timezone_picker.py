"""The time-zone picker: common zones first, only Area/City names (no aliases such as
"Factory" or "localtime"), a browser-zone suggestion by a static script; and every signed-in
page says which zone its times are in."""

import pytest
from django.urls import reverse

from accounts.models import Profile
from accounts.selectors import selectable_timezones
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client):
    user = factories.CustomerFactory()
    client.force_login(user)
    return user


def test_common_zones_come_first_and_aliases_are_not_offered(client, signed_in):
    """The options start with "Common" (UTC, Europe/London …); Factory, localtime, US/Eastern,
    Etc/GMT+5 and posixrules are not offered, Area/City zones are."""
    page = client.get(reverse("profile")).text
    common, everything = page.index('label="Common"'), page.index('label="All of ')
    assert common < everything
    assert common < page.index('value="Europe/Berlin"') < everything
    for alias in ["Factory", "localtime", "US/Eastern", "Etc/GMT+5", "posixrules", "GB"]:
        assert f'value="{alias}"' not in page
        assert alias not in selectable_timezones()
    assert 'value="America/Argentina/Buenos_Aires"' in page


def test_an_alias_is_refused_but_one_chosen_earlier_is_kept(client, signed_in):
    """Posting "Factory" is refused; a profile that already holds "US/Eastern" still saves."""
    assert client.post(reverse("profile"), {"timezone": "Factory"}).context["form"].errors
    Profile.objects.update_or_create(user=signed_in, defaults={"timezone": "US/Eastern"})
    page = client.get(reverse("profile"))
    assert "US/Eastern" in page.text and "(chosen earlier)" in page.text
    assert client.post(reverse("profile"), {"timezone": "US/Eastern"}).status_code == 302


def test_the_picker_loads_its_static_script_and_no_inline_script(client, signed_in):
    """The browser-zone suggestion and the search box come from static/js/timezone-picker.js,
    which reads Intl.DateTimeFormat().resolvedOptions().timeZone."""
    from django.contrib.staticfiles import finders

    page = client.get(reverse("profile")).text
    assert "/static/js/timezone-picker.js" in page and "data-timezone-picker" in page
    assert "<script>" not in page
    with open(finders.find("js/timezone-picker.js")) as script:
        assert "resolvedOptions().timeZone" in script.read()


def test_every_signed_in_page_says_the_viewer_s_zone(client, signed_in):
    """Signed in, the dashboard, ticket list and maintenance page say which zone times are in
    and link to the profile; signed out, the line is not there."""
    Profile.objects.create(user=signed_in, timezone="Asia/Tokyo")
    for name in ["home", "tickets:list", "maintenance:calendar", "profile"]:
        page = client.get(reverse(name)).text
        assert 'data-testid="viewer-zone"' in page and "Asia/Tokyo" in page, name
    client.logout()
    assert 'data-testid="viewer-zone"' not in client.get(reverse("home")).text
