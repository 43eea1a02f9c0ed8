"""The maintenance banner: from the first notice to the window's end, in the viewer's zone."""

from datetime import timedelta

import pytest
from django.core.cache import cache

from accounts.models import Profile
from maintenance.context_processors import banners_for
from maintenance.services import occurrence_cancel
from tests import factories
from tests.maintenance.conftest import SUNDAY, make_policy, make_window


@pytest.fixture
def member(weekly, service, customer_of):
    return customer_of(service)


def page(client, user):
    client.force_login(user)
    return client.get("/").content.decode()


def at(clock, moment):
    clock.move_to(moment)
    cache.clear()  # each moment as a fresh minute


def test_no_banner_before_the_first_notice(client, clock, member):
    """48 h and one minute before: nothing yet."""
    at(clock, SUNDAY - timedelta(hours=48, minutes=1))
    assert "maintenance-banner" not in page(client, member)


def test_banner_from_the_first_notice_in_the_services_zone(client, clock, member):
    """From 48 h before: what, when (service zone UTC by default), impact."""
    at(clock, SUNDAY - timedelta(hours=48))
    html = page(client, member)
    assert "Planned maintenance" in html and "Scheduled downtime" in html
    assert "Sun 10 Jan 2027, 02:00–04:00 UTC" in html
    assert "Full downtime" in html


def test_banner_in_the_viewers_own_zone(client, clock, member):
    """A profile zone of America/New_York shows Saturday 21:00–23:00 local."""
    Profile.objects.update_or_create(user=member, defaults={"timezone": "America/New_York"})
    at(clock, SUNDAY - timedelta(hours=1))
    assert "Sat 09 Jan 2027, 21:00–23:00 America/New_York" in page(client, member)


def test_banner_says_in_progress_during_the_window_and_goes_after(client, clock, member):
    """During the window it switches to "in progress"; at its end it is gone."""
    at(clock, SUNDAY + timedelta(minutes=30))
    html = page(client, member)
    assert "Maintenance in progress" in html and "Until 04:00 UTC" in html
    at(clock, SUNDAY + timedelta(hours=2))
    assert "maintenance-banner" not in page(client, member)


def test_no_banner_for_customers_of_other_services_or_anonymous(client, clock, weekly):
    """Only users of the affected service see it; anonymous visitors see none."""
    at(clock, SUNDAY - timedelta(hours=1))
    outsider = factories.CustomerFactory(services=[factories.ServiceFactory()])
    assert "maintenance-banner" not in page(client, outsider)
    client.logout()
    assert "maintenance-banner" not in client.get("/").content.decode()


def test_no_banner_for_a_cancelled_occurrence_or_without_the_banner_channel(
    clock, service, customer_of
):
    """A cancelled occurrence has no banner; nor does a plan without the banner channel."""
    make_policy(service, channels=["email"])
    make_window(service)
    user = customer_of(service)
    at(clock, SUNDAY - timedelta(hours=1))
    assert banners_for(user=user, now=SUNDAY - timedelta(hours=1)) == []
    other = factories.ServiceFactory()
    make_policy(other)
    window = make_window(other)
    occurrence_cancel(window=window, starts_at=SUNDAY, by=None)
    user2 = customer_of(other)
    assert banners_for(user=user2, now=SUNDAY - timedelta(hours=1)) == []


def test_the_banner_costs_a_constant_number_of_queries(
    clock, service, customer_of, django_assert_max_num_queries
):
    """A customer of five services with windows: a handful of queries, then cached."""
    user = customer_of(service)
    for n in range(5):
        other = factories.ServiceFactory()
        make_policy(other)
        make_window(other, name=f"Window {n}")
        from tickets.services import customer_add_service

        customer_add_service(customer=user, service=other)
    at(clock, SUNDAY - timedelta(hours=1))
    with django_assert_max_num_queries(6):
        assert len(banners_for(user=user, now=SUNDAY - timedelta(hours=1))) == 5
    with django_assert_max_num_queries(2):
        assert len(banners_for(user=user, now=SUNDAY - timedelta(minutes=59))) == 5
