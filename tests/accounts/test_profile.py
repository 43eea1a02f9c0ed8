"""The profile: the time zone a person reads times in."""

import pytest
from django.urls import reverse

from accounts.models import Profile
from tests import factories

pytestmark = pytest.mark.django_db


def test_profile_requires_login(client):
    """Anonymous visitors are sent to log in."""
    response = client.get(reverse("profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_profile_is_created_lazily(client):
    """The first visit creates the profile, blank (each service's own zone)."""
    user = factories.CustomerFactory()
    client.force_login(user)
    assert client.get(reverse("profile")).status_code == 200
    assert Profile.objects.get(user=user).timezone == ""


def test_timezone_is_saved(client):
    """A valid zone is saved; blank goes back to each service's zone."""
    user = factories.CustomerFactory()
    client.force_login(user)
    response = client.post(reverse("profile"), {"timezone": "Europe/Paris"})
    assert response.status_code == 302
    assert Profile.objects.get(user=user).timezone == "Europe/Paris"
    client.post(reverse("profile"), {"timezone": ""})
    assert Profile.objects.get(user=user).timezone == ""


def test_an_unknown_timezone_is_refused(client):
    """A zone that does not exist is an error and changes nothing."""
    user = factories.CustomerFactory()
    client.force_login(user)
    client.post(reverse("profile"), {"timezone": "Europe/Paris"})
    response = client.post(reverse("profile"), {"timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert response.context["form"].errors["timezone"]
    assert Profile.objects.get(user=user).timezone == "Europe/Paris"


def test_ticket_times_follow_the_chosen_zone(client, ticket):
    """With a zone chosen, ticket pages show times in it; without, in the service's zone."""
    client.force_login(ticket.customer)
    assert client.get(ticket.get_absolute_url()).context["zone"].key == "UTC"
    client.post(reverse("profile"), {"timezone": "Asia/Tokyo"})
    page = client.get(ticket.get_absolute_url())
    assert page.context["zone"].key == "Asia/Tokyo"
    assert "JST" in page.text
