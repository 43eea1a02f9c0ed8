"""Staff work tickets in the Django admin: scoped by tier, every write through the services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification
from tests import factories
from tickets import services
from tickets.admin import TicketAdmin
from tickets.models import Attachment, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:tickets_ticket_changelist")


def change_url(ticket):
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


@pytest.fixture
def superuser(db):
    return factories.UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def make_ticket(service, priority, customer):
    def make(**kwargs):
        kwargs.setdefault("service", service)
        kwargs.setdefault("priority", priority)
        kwargs.setdefault("customer", customer)
        return factories.TicketFactory(**kwargs)

    return make


def listed(response):
    return {ticket.pk for ticket in response.context["cl"].result_list}


def form_data(ticket, **overrides):
    """What the change form posts when staff change nothing but ``overrides``."""
    data = {
        "status": ticket.status,
        "priority": ticket.priority_id,
        "assignee": ticket.assignee_id or "",
        "public_reply": "",
        "internal_note": "",
        "escalate_reason": "",
    }
    data.update(overrides)
    return data


# --- changelist ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["tier1_staff", "superuser"])
def test_changelist_query_count_does_not_grow_with_rows(request, client, make_ticket, who):
    """The ticket list costs the same number of queries for 1 ticket as for 50."""
    user = request.getfixturevalue(who)
    client.force_login(user)
    assignee = factories.StaffFactory(tier=1)
    make_ticket(assignee=assignee)
    client.get(CHANGELIST)  # warm caches unrelated to the rows (content types, session)

    with CaptureQueriesContext(connection) as one:
        response = client.get(CHANGELIST)
    assert len(listed(response)) == 1

    first = Ticket.objects.get()
    priorities = [first.priority, factories.PriorityFactory(service=first.service, code="P2")]
    for n in range(49):
        make_ticket(
            customer=factories.CustomerFactory(),
            assignee=assignee if n % 2 else None,
            priority=priorities[n % 2],
        )
    with CaptureQueriesContext(connection) as fifty:
        response = client.get(CHANGELIST)
    assert len(listed(response)) == 50
    assert len(fifty.captured_queries) == len(one.captured_queries)


@pytest.mark.postgres
def test_the_first_page_reads_its_rows_in_index_order_without_sorting_the_rest(
    client, superuser, make_ticket
):
    """Most tickets have no running deadline (resolved, closed): the first page's 50 rows run
    into them, and ordered by an index on the deadline alone, PostgreSQL read and sorted every
    one of them by id (0.9 s at a million). The index holds the list's whole order."""
    for _ in range(51):  # more than a page: the page is a LIMIT
        make_ticket(status=Ticket.Status.CLOSED, next_due_at=None)
    client.force_login(superuser)
    with CaptureQueriesContext(connection) as queries:
        client.get(CHANGELIST)
    (page,) = [q["sql"] for q in queries.captured_queries if q["sql"].endswith("LIMIT 50")]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the index, as on a large table
        cursor.execute(f"EXPLAIN {page}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "ticket_next_due_id" in plan
    assert "Sort" not in plan, plan


def test_changelist_shows_the_columns_staff_work_with(client, tier1_staff, make_ticket):
    """Number, subject, service, priority code, status, tier, customer and age are listed."""
    ticket = make_ticket(subject="Printer on fire", created_at=timezone.now())
    client.force_login(tier1_staff)
    response = client.get(CHANGELIST)
    page = response.content.decode()
    for text in [
        ticket.number,
        "Printer on fire",
        ticket.service.name,
        ticket.priority.code,
        "New",
        ticket.customer.email,
        "0\xa0minutes",
    ]:
        assert text in page


def test_tier_1_sees_only_tier_1_tickets_and_cannot_open_a_tier_2_one(
    client, tier1_staff, make_ticket
):
    """A tier-2 ticket does not exist for tier-1 staff: not listed, not opened, not changed."""
    mine = make_ticket(tier=1)
    above = make_ticket(tier=2, subject="Above my tier")
    client.force_login(tier1_staff)

    assert listed(client.get(CHANGELIST)) == {mine.pk}

    response = client.get(change_url(above), follow=True)
    assert "doesn’t exist" in response.content.decode()
    assert "Above my tier" not in response.content.decode()

    client.post(change_url(above), form_data(above, status="resolved", public_reply="hi"))
    above.refresh_from_db()
    assert above.status == Ticket.Status.NEW
    assert not above.messages.exists()


def test_tier_2_sees_tiers_1_and_2_and_superuser_sees_all(
    client, tier2_staff, superuser, make_ticket
):
    """Staff of tier N see tickets whose tier is at most N; superusers see every tier."""
    tickets = {level: make_ticket(tier=level) for level in (1, 2, 3)}
    client.force_login(tier2_staff)
    assert listed(client.get(CHANGELIST)) == {tickets[1].pk, tickets[2].pk}
    client.force_login(superuser)
    assert listed(client.get(CHANGELIST)) == {t.pk for t in tickets.values()}


def test_search_by_number_subject_and_customer_email(client, tier1_staff, make_ticket):
    """ "#12" and "12" find ticket 12; words find subjects; an address finds its customer."""
    target = make_ticket(subject="VPN drops every hour")
    # A subject with the target's digits must not match "#<pk>".
    decoy = make_ticket(subject=f"Error code {target.pk}")
    other = make_ticket(customer=factories.CustomerFactory(email="zoe@acme.test"))
    client.force_login(tier1_staff)

    def search(term):
        return listed(client.get(CHANGELIST, {"q": term}))

    assert search(f"#{target.pk}") == {target.pk}
    assert target.pk in search(str(target.pk))
    assert search("VPN") == {target.pk}
    assert search("zoe@acme.test") == {other.pk}
    assert decoy.pk not in search(f"#{target.pk}")


def test_filters_mine_unassigned_priority_and_tier(client, tier2_staff, make_ticket, service):
    """The list filters by assignee (mine / unassigned), priority code and tier."""
    mine = make_ticket(assignee=tier2_staff)
    unassigned = make_ticket(tier=2)
    p2 = factories.PriorityFactory(service=service, code="P2")
    low = make_ticket(priority=p2, assignee=factories.StaffFactory(tier=1))
    client.force_login(tier2_staff)
    assert listed(client.get(CHANGELIST, {"assignee": "me"})) == {mine.pk}
    assert listed(client.get(CHANGELIST, {"assignee": "none"})) == {unassigned.pk}
    assert listed(client.get(CHANGELIST, {"priority": "P2"})) == {low.pk}
    assert listed(client.get(CHANGELIST, {"tier": "2"})) == {unassigned.pk}


def test_staff_cannot_add_or_delete_tickets(client, tier3_staff, ticket):
    """Customers open tickets; staff have no add page and no delete."""
    client.force_login(tier3_staff)
    assert client.get(reverse("admin:tickets_ticket_add")).status_code == 403
    assert client.get(reverse("admin:tickets_ticket_delete", args=[ticket.pk])).status_code == 403
    actions = client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert "delete_selected" not in dict(actions)


def test_nobody_is_offered_a_delete_that_the_audit_trail_refuses(client, ticket):
    """A superuser neither: the ticket's events are read-only for everyone, so Django's delete
    page could only refuse ("cannot delete … ticket event") after the list offered it."""
    client.force_login(factories.StaffFactory(is_superuser=True))
    assert client.get(reverse("admin:tickets_ticket_delete", args=[ticket.pk])).status_code == 403
    actions = client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert "delete_selected" not in dict(actions)


# --- change page: writes through the services ---------------------------------------------


def test_public_reply_is_the_first_response_and_emails_the_customer(client, tier1_staff, ticket):
    """A reply posted on the ticket page is public, starts the clock and mails the customer."""
    client.force_login(tier1_staff)
    response = client.post(
        change_url(ticket), form_data(ticket, public_reply="We are on it.\nHang on.")
    )
    assert response.status_code == 302
    message = ticket.messages.get()
    assert (message.body, message.internal, message.author) == (
        "We are on it.\nHang on.",
        False,
        tier1_staff,
    )
    ticket.refresh_from_db()
    assert ticket.first_response_at == message.created_at
    assert ticket.status == Ticket.Status.OPEN
    mail = Notification.objects.get(key=f"message:{message.pk}:customer")
    assert mail.to == ticket.customer.email
    assert ticket.events.filter(kind=TicketEvent.Kind.REPLIED, actor=tier1_staff).exists()


def test_internal_note_is_internal_and_tells_the_customer_nothing(client, tier1_staff, ticket):
    """An internal note is a staff-only message: no first response, no email to the customer."""
    client.force_login(tier1_staff)
    client.post(change_url(ticket), form_data(ticket, internal_note="Customer on legacy plan."))
    note = ticket.messages.get()
    assert note.internal
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    assert not Notification.objects.filter(to=ticket.customer.email).exists()
    assert ticket.events.filter(kind=TicketEvent.Kind.NOTE).exists()


def test_resolving_on_the_change_page_goes_through_the_service(client, tier1_staff, ticket):
    """Setting the status records an event, stamps resolved_at and emails the customer."""
    client.force_login(tier1_staff)
    client.post(change_url(ticket), form_data(ticket, status="resolved"))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.resolved_at is not None
    event = ticket.events.get(kind=TicketEvent.Kind.STATUS)
    assert event.actor == tier1_staff
    assert event.data == {"from": "new", "to": "resolved"}
    assert Notification.objects.filter(key__startswith=f"ticket:{ticket.pk}:resolved:").exists()


def test_changing_priority_and_assignee_records_events(client, tier1_staff, ticket, service):
    """Priority and assignee changes are made by the services and show who made them."""
    p2 = factories.PriorityFactory(service=service, code="P2")
    colleague = factories.StaffFactory(tier=1)
    client.force_login(tier1_staff)
    client.post(change_url(ticket), form_data(ticket, priority=p2.pk, assignee=colleague.pk))
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee) == (p2, colleague)
    kinds = set(ticket.events.filter(actor=tier1_staff).values_list("kind", flat=True))
    assert kinds == {TicketEvent.Kind.PRIORITY, TicketEvent.Kind.ASSIGNED}


def test_priority_and_assignee_choices_are_limited(client, tier1_staff, ticket, service):
    """Only the service's current priorities, and only staff who can see the ticket."""
    retired = factories.PriorityFactory(service=service, code="P9", retired_at=timezone.now())
    foreign = factories.PriorityFactory(code="P1")  # another service's
    client.force_login(tier1_staff)
    form = client.get(change_url(ticket)).context["adminform"].form
    priorities = set(form.fields["priority"].queryset)
    assert ticket.priority in priorities
    assert retired not in priorities and foreign not in priorities
    assignees = set(form.fields["assignee"].queryset)
    assert tier1_staff in assignees
    assert ticket.customer not in assignees

    response = client.post(change_url(ticket), form_data(ticket, assignee=ticket.customer.pk))
    assert response.status_code == 200  # the form is shown again with the error
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_assignee_must_be_able_to_see_the_ticket(client, tier2_staff, make_ticket):
    """A tier-2 ticket cannot be given to a tier-1 member, who would never see it."""
    ticket = make_ticket(tier=2)
    tier1 = factories.StaffFactory(tier=1)
    client.force_login(tier2_staff)
    response = client.post(change_url(ticket), form_data(ticket, assignee=tier1.pk))
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_escalating_with_a_reason_moves_the_ticket_up(client, tier2_staff, ticket):
    """The escalate box moves the ticket a tier up and records who escalated and why."""
    client.force_login(tier2_staff)
    response = client.post(
        change_url(ticket), form_data(ticket, escalate="on", escalate_reason="Needs a DBA")
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.tier == 2
    event = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert event.actor == tier2_staff
    assert event.data["reason"] == "Needs a DBA"
    assert "Needs a DBA" in event.summary


def test_escalating_past_my_tier_returns_me_to_the_list(client, tier1_staff, ticket):
    """After escalating beyond their own tier, staff land on the list, told where it went."""
    client.force_login(tier1_staff)
    response = client.post(
        change_url(ticket),
        form_data(ticket, escalate="on", escalate_reason="Beyond me", _continue="1"),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == CHANGELIST
    assert "now belongs to a higher tier" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.tier == 2


@pytest.mark.parametrize(
    ("tier", "overrides", "field"),
    [
        (1, {"escalate": "on", "escalate_reason": ""}, "escalate_reason"),
        (3, {"escalate": "on", "escalate_reason": "More help"}, "escalate"),
        (1, {"escalate": "on", "escalate_reason": "x", "status": "resolved"}, "escalate"),
    ],
    ids=["no-reason", "top-tier", "resolving"],
)
def test_escalation_refused_by_the_form_changes_nothing(
    client, tier3_staff, make_ticket, tier, overrides, field
):
    """A reason is required; a top-tier or resolved ticket cannot go up; nothing is saved."""
    ticket = make_ticket(tier=tier)
    client.force_login(tier3_staff)
    response = client.post(change_url(ticket), form_data(ticket, public_reply="hi", **overrides))
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    ticket.refresh_from_db()
    assert (ticket.tier, ticket.status) == (tier, Ticket.Status.NEW)
    assert not ticket.messages.exists()
    assert not ticket.events.exists()


def test_a_service_refusal_saves_nothing_and_says_why(client, tier1_staff, ticket, monkeypatch):
    """When a service refuses half-way, the earlier writes of the same save are rolled back."""
    from django.core.exceptions import ValidationError

    def refuse(**kwargs):
        raise ValidationError("The plan forbids it.")

    monkeypatch.setattr("tickets.admin.ticket.ticket_set_status", refuse)
    client.force_login(tier1_staff)
    response = client.post(
        change_url(ticket), form_data(ticket, public_reply="Done", status="resolved"), follow=True
    )
    page = response.content.decode()
    assert "Nothing was saved: The plan forbids it." in page
    assert "was changed successfully" not in page
    assert not ticket.messages.exists()
    assert not Notification.objects.exists()


# --- change page: conversation and timeline -----------------------------------------------


def _attach(message, name):
    return Attachment.objects.create(
        ticket=message.ticket,
        message=message,
        uploaded_by=message.author,
        file=f"attachments/test/{name}",
        token=f"token-{message.pk}-{name}",
        name=name,
        content_type="text/plain",
        size=12,
    )


def test_change_page_shows_conversation_and_timeline(client, tier1_staff, ticket):
    """Messages in order with internal notes marked, attachment links, escaped text, events."""
    services.ticket_reply(ticket=ticket, author=ticket.customer, body="<script>alert(1)</script>")
    note = services.ticket_reply(
        ticket=ticket, author=tier1_staff, body="Secret plan", internal=True
    )
    reply = services.ticket_reply(ticket=ticket, author=tier1_staff, body="Try turning it off")
    attachment = _attach(reply, "steps.txt")
    services.ticket_assign(ticket=ticket, assignee=tier1_staff, by=tier1_staff)
    client.force_login(tier1_staff)

    page = client.get(change_url(ticket)).content.decode()

    assert ticket.description.split("\n")[0] in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.index("&lt;script&gt;") < page.index("Secret plan") < page.index("Try turning")
    note_html = page[page.index(f'id="message-{note.pk}"') - 40 : page.index("Secret plan")]
    assert "internal" in note_html and "Internal note" in note_html
    reply_html = page[page.index(f'id="message-{reply.pk}"') - 40 : page.index("Try turning")]
    assert "Internal note" not in reply_html
    assert reverse("tickets:attachment", args=[ticket.pk, attachment.pk]) in page
    assert "steps.txt" in page
    assert "Timeline" in page
    assert f"Assigned to {tier1_staff.get_username()}" in page


def test_change_page_query_count_does_not_grow_with_messages(client, tier1_staff, ticket):
    """Opening a ticket with 20 messages costs as many queries as with one."""
    client.force_login(tier1_staff)

    def add_message(n):
        message = factories.MessageFactory(
            ticket=ticket, author=factories.StaffFactory(tier=1), internal=n % 2 == 0
        )
        _attach(message, f"file{n}.log")
        TicketEvent.objects.create(ticket=ticket, actor=message.author, kind="note", summary="n")

    add_message(0)
    client.get(change_url(ticket))
    with CaptureQueriesContext(connection) as one:
        client.get(change_url(ticket))
    for n in range(1, 20):
        add_message(n)
    with CaptureQueriesContext(connection) as twenty:
        page = client.get(change_url(ticket)).content.decode()
    assert page.count('class="entry ') == 21  # the opening + 20 messages
    assert len(twenty.captured_queries) == len(one.captured_queries)


# --- changelist actions --------------------------------------------------------------------


def act(client, action, tickets):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [t.pk for t in tickets]},
        follow=True,
    )


def page_messages(response):
    return [str(m) for m in response.context["messages"]]


def test_action_assign_to_me(client, tier1_staff, make_ticket):
    """ "Assign to me" assigns each selected ticket to the acting staff member."""
    tickets = [make_ticket(), make_ticket()]
    client.force_login(tier1_staff)
    response = act(client, "assign_to_me", tickets)
    assert Ticket.objects.filter(assignee=tier1_staff).count() == 2
    assert TicketEvent.objects.filter(kind="assigned", actor=tier1_staff).count() == 2
    assert any("2 tickets assigned to you" in m for m in page_messages(response))


def test_action_escalate_reports_a_ticket_already_at_the_top(client, tier3_staff, make_ticket):
    """Escalation moves each ticket a tier up; one at the top tier is reported, unchanged."""
    low, top = make_ticket(tier=1), make_ticket(tier=3)
    client.force_login(tier3_staff)
    response = act(client, "escalate_to_next_tier", [low, top])
    low.refresh_from_db()
    top.refresh_from_db()
    assert (low.tier, top.tier) == (2, 3)
    event = low.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert event.actor == tier3_staff
    assert event.data["reason"] == f"Escalated from the ticket list by {tier3_staff.username}"
    assert not top.events.exists()
    notes = page_messages(response)
    assert any(top.number in m and "top tier" in m for m in notes)
    assert any(f"1 ticket escalated to the next tier: {low.number}" in m for m in notes)


def test_action_resolve(client, tier1_staff, make_ticket):
    """ "Resolve" resolves active tickets through the service and skips resolved ones."""
    active = make_ticket()
    done = make_ticket(status=Ticket.Status.RESOLVED, resolved_at=timezone.now())
    client.force_login(tier1_staff)
    response = act(client, "resolve", [active, done])
    active.refresh_from_db()
    assert active.status == Ticket.Status.RESOLVED
    assert active.events.filter(kind=TicketEvent.Kind.STATUS, actor=tier1_staff).exists()
    assert Notification.objects.filter(key__startswith=f"ticket:{active.pk}:resolved:").exists()
    assert not done.events.exists()
    assert any(done.number in m and "already resolved" in m for m in page_messages(response))


def test_actions_cannot_reach_tickets_above_my_tier(client, tier1_staff, make_ticket):
    """A forged selection of an out-of-scope ticket does nothing to it."""
    above = make_ticket(tier=2)
    client.force_login(tier1_staff)
    act(client, "assign_to_me", [above])
    above.refresh_from_db()
    assert above.assignee is None


# --- messages and events admins ------------------------------------------------------------


def test_message_and_event_lists_are_read_only_and_scoped(client, tier1_staff, make_ticket):
    """Staff can browse messages and events of the tickets they may see, and edit none."""
    mine, above = make_ticket(tier=1), make_ticket(tier=2)
    visible = factories.MessageFactory(ticket=mine, body="visible words")
    factories.MessageFactory(ticket=above, body="hidden words")
    TicketEvent.objects.create(ticket=mine, kind="note", summary="seen event")
    TicketEvent.objects.create(ticket=above, kind="note", summary="unseen event")
    client.force_login(tier1_staff)

    page = client.get(reverse("admin:tickets_message_changelist")).content.decode()
    assert "visible words" in page and "hidden words" not in page
    page = client.get(reverse("admin:tickets_ticketevent_changelist")).content.decode()
    assert "seen event" in page and "unseen event" not in page
    response = client.get(reverse("admin:tickets_message_change", args=[visible.pk]))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert Message.objects.count() == 2


# --- service level ---------------------------------------------------------------------------


def test_sla_column_filters_and_sort_by_nearest_deadline(client, tier1_staff, make_ticket):
    """The SLA column is coloured by state; "breached", "at risk" and "due in the next hour"
    filter on the deadline columns; sorting by it puts the nearest deadline first."""
    now = timezone.now()
    hour = timezone.timedelta(hours=1)
    breached = make_ticket(response_due_at=now - hour, next_due_at=now - hour)
    at_risk = make_ticket(
        response_due_at=now + hour / 2, response_warn_at=now - hour, next_due_at=now + hour / 2
    )
    on_track = make_ticket(response_due_at=now + 5 * hour, next_due_at=now + 5 * hour)
    client.force_login(tier1_staff)
    page = client.get(CHANGELIST).content.decode()
    for css in ["sla-breached", "sla-at-risk", "sla-on-track"]:
        assert css in page
    assert listed(client.get(CHANGELIST, {"sla": "breached"})) == {breached.pk}
    assert listed(client.get(CHANGELIST, {"sla": "at_risk"})) == {at_risk.pk}
    assert listed(client.get(CHANGELIST, {"sla": "next_hour"})) == {at_risk.pk}
    # The column's position (after the action checkbox), not a number that moves with layout.
    column = TicketAdmin.list_display.index("sla_countdown") + 1
    order = client.get(CHANGELIST, {"o": str(column)}).context["cl"].result_list
    assert [t.pk for t in order] == [breached.pk, at_risk.pk, on_track.pk]


def test_change_page_shows_the_sla_timeline(client, tier1_staff, customer, service, priority):
    """Timers, pauses and escalations appear on the ticket page."""
    ticket = services.ticket_create(
        customer=customer, service=service, priority=priority, subject="S", description="D"
    )
    services.ticket_set_status(ticket=ticket, status="waiting_on_customer", by=tier1_staff)
    services.ticket_escalate(ticket=ticket, by=tier1_staff, reason="Needs Tier 2")
    client.force_login(factories.UserFactory(is_staff=True, is_superuser=True))
    page = client.get(change_url(ticket)).content.decode()
    assert "Service level" in page
    assert "Resolution timer paused (Waiting on customer)" in page
    assert "Manual: Escalated by staff" in page and "Needs Tier 2" in page
