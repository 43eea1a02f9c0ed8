"""Rating: five labelled stars in natural order, changeable for 7 days after resolution, with
an optional comment; the CSAT figures follow the latest rating."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from core import periods
from metrics import selectors as metrics
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def resolved(ticket, tier1_staff):
    services.ticket_reply(ticket=ticket, author=tier1_staff, body="Fixed on our side.")
    return services.ticket_set_status(ticket=ticket, status="resolved", by=tier1_staff)


def _rate(client, ticket, rating, comment=""):
    return client.post(
        reverse("tickets:rate", args=[ticket.pk]), {"rating": rating, "comment": comment}
    )


def test_five_labelled_radio_stars_in_natural_order(customer_client, resolved):
    """The form is five radio buttons valued 1 to 5 in that order, each with a label that says
    what it means, grouped under a legend; no script, no inline style."""
    page = customer_client.get(resolved.get_absolute_url()).text
    values = [page.index(f'name="rating" value="{n}"') for n in range(1, 6)]
    assert values == sorted(values)
    for n, word in [(1, "Very poor"), (3, "Fair"), (5, "Excellent")]:
        assert f"{n} star" in page and word in page
    assert "<legend" in page and 'class="visually-hidden star-rating__input"' in page
    assert "style=" not in page[page.index('id="rate"') :]


def test_the_rating_can_be_changed_for_seven_days_and_csat_follows(
    customer_client, resolved, service
):
    """Rated 2, changed to 5 with a comment within 7 days: the ticket and the CSAT figures
    hold 5; after 7 days the rating can no longer be changed."""
    _rate(customer_client, resolved, 2)
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        page = customer_client.get(resolved.get_absolute_url())
        assert page.context["rating_form"] is not None and "Change rating" in page.text
        _rate(customer_client, resolved, 5, "Great in the end")
    resolved.refresh_from_db()
    assert (resolved.rating, resolved.rating_comment) == (5, "Great in the end")

    today = timezone.localdate()
    period = periods.custom(today - timedelta(days=1), today + timedelta(days=1), "UTC")
    rows = list(metrics.resolved_by_week(service=service, period=period))
    assert sum(r["rated"] for r in rows) == 1 and sum(r["rating_sum"] for r in rows) == 5

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        late = _rate(customer_client, resolved, 1)
        assert late.status_code == 302
        page = customer_client.get(resolved.get_absolute_url())
        assert page.context["rating_form"] is None and "5/5" in page.text
    resolved.refresh_from_db()
    assert resolved.rating == 5


def test_only_the_ticket_s_customer_rates(resolved, other_customer):
    """Someone else (even a CC) cannot rate the ticket."""
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.ticket_rate(ticket=resolved, by=other_customer, rating=1)
