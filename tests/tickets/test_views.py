"""The customer's ticket pages: list, submit, detail, reply, close, reopen, rate, download."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tickets import services
from tickets.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


def _upload(name="log.txt", content=b"line one\nline two\n", content_type="text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def _submit(client, service, priority, **overrides):
    data = {
        "service": service.pk,
        "priority": priority.pk,
        "subject": "Checkout is broken",
        "description": "Since 9:00 every order fails.\nError 500.",
        **overrides,
    }
    return client.post(reverse("tickets:new"), data)


def _resolved_ticket(ticket, staff):
    services.ticket_reply(ticket=ticket, author=staff, body="Fixed on our side.")
    return services.ticket_set_status(ticket=ticket, status="resolved", by=staff)


# --- My tickets --------------------------------------------------------------------------------


def test_list_requires_login(client):
    """An anonymous visitor is sent to the log-in page, not shown a list."""
    response = client.get(reverse("tickets:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_list_shows_only_my_tickets(customer_client, customer, other_customer, service, priority):
    """My tickets lists the signed-in customer's tickets and nobody else's."""
    mine = factories.TicketFactory(customer=customer, service=service, priority=priority)
    theirs = factories.TicketFactory(
        customer=other_customer, service=service, priority=priority, subject="Not yours"
    )
    response = customer_client.get(reverse("tickets:list"))
    assert response.status_code == 200
    # The rows are the tickets' values (tickets.views.ListRow): compared by id.
    assert [row.pk for row in response.context["page"]] == [mine.pk]
    assert mine.subject in response.text
    assert theirs.subject not in response.text
    assert "P1 — High" in response.text


def test_list_filters_by_status_service_and_text(customer_client, customer, service, priority):
    """Status (including "active"), service and subject search narrow the list."""
    other_service = factories.ServiceFactory()
    other_priority = factories.PriorityFactory(service=other_service, code="P2")
    services.customer_add_service(customer=customer, service=other_service)
    open_one = factories.TicketFactory(
        customer=customer, service=service, priority=priority, subject="Login fails"
    )
    resolved = factories.TicketFactory(
        customer=customer,
        service=service,
        priority=priority,
        subject="Invoice wrong",
        status=Ticket.Status.RESOLVED,
    )
    elsewhere = factories.TicketFactory(
        customer=customer, service=other_service, priority=other_priority, subject="Slow pages"
    )

    def listed(**params):
        page = customer_client.get(reverse("tickets:list"), params).context["page"]
        return {row.pk for row in page}

    assert listed(status="active") == {open_one.pk, elsewhere.pk}
    assert listed(status="resolved") == {resolved.pk}
    assert listed(service=other_service.slug) == {elsewhere.pk}
    assert listed(q="invoice") == {resolved.pk}
    assert listed(status="active", service=service.slug) == {open_one.pk}


def test_list_paginates_by_25(customer_client, customer, service, priority):
    """30 tickets make two pages of 25 and 5; page links keep the filters."""
    factories.TicketFactory.create_batch(30, customer=customer, service=service, priority=priority)
    first = customer_client.get(reverse("tickets:list"), {"status": "active"})
    assert len(first.context["page"].object_list) == 25
    assert "page=2" in first.text and "status=active" in first.text
    second = customer_client.get(reverse("tickets:list"), {"status": "active", "page": 2})
    assert len(second.context["page"].object_list) == 5
    assert customer_client.get(reverse("tickets:list"), {"page": "nope"}).status_code == 200


def test_list_query_count_does_not_grow_with_rows(customer_client, customer, service, priority):
    """My tickets costs the same number of queries for 1 ticket as for a full page of 25+."""
    factories.TicketFactory(customer=customer, service=service, priority=priority)
    url = reverse("tickets:list")
    customer_client.get(url)  # warm the session and any per-process caches
    with CaptureQueriesContext(connection) as one:
        assert customer_client.get(url).status_code == 200
    factories.TicketFactory.create_batch(29, customer=customer, service=service, priority=priority)
    with CaptureQueriesContext(connection) as thirty:
        assert customer_client.get(url).status_code == 200
    assert len(thirty) == len(one), [q["sql"] for q in thirty.captured_queries]


# --- Submit --------------------------------------------------------------------------------------


def test_new_ticket_form_shows_priorities_with_their_plan_labels(customer_client, priority):
    """Each priority option reads as the plan defines it, grouped under its service."""
    response = customer_client.get(reverse("tickets:new"))
    assert response.status_code == 200
    assert "P1 — High: Core feature broken, workaround available." in response.text
    assert f'<optgroup label="{priority.service.name}">' in response.text


def test_new_ticket_form_preselects_the_only_service(customer_client, service):
    """A customer of a single service does not have to pick it."""
    response = customer_client.get(reverse("tickets:new"))
    assert response.context["form"]["service"].value() == service.pk


def test_new_ticket_offers_only_my_services(customer_client, customer, service):
    """Another service's priorities and name are not offered."""
    other = factories.ServiceFactory(name="Secret Service")
    factories.PriorityFactory(service=other, code="X9", name="Hidden")
    response = customer_client.get(reverse("tickets:new"))
    assert "Secret Service" not in response.text
    assert "X9" not in response.text


def test_submit_with_several_attachments(customer_client, customer, service, priority):
    """A valid submission creates the ticket with its files and confirms with its number."""
    response = customer_client.post(
        reverse("tickets:new"),
        {
            "service": service.pk,
            "priority": priority.pk,
            "subject": "Checkout is broken",
            "description": "Every order fails.",
            "attachments": [
                _upload("error.log", b"500 at checkout"),
                _upload("screen.png", b"\x89PNG fake", "image/png"),
            ],
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:submitted", args=[ticket.pk])
    assert ticket.customer == customer and ticket.priority == priority
    stored = {a.name: a for a in ticket.attachments.all()}
    assert set(stored) == {"error.log", "screen.png"}
    assert stored["error.log"].file.read() == b"500 at checkout"

    confirmation = customer_client.get(response["Location"])
    assert confirmation.status_code == 200
    assert ticket.number in confirmation.text
    assert ticket.get_absolute_url() in confirmation.text


def test_a_refused_extension_names_the_file_and_keeps_the_form(customer_client, service, priority):
    """A bad file type is named on the attachments field; the typed text stays; nothing saved."""
    response = customer_client.post(
        reverse("tickets:new"),
        {
            "service": service.pk,
            "priority": priority.pk,
            "subject": "Keep this subject",
            "description": "Keep this description",
            "attachments": [_upload("ok.txt"), _upload("run.exe", b"MZ")],
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert any("run.exe" in error for error in form.errors["attachments"])
    assert 'value="Keep this subject"' in response.text
    assert "Keep this description" in response.text
    assert "run.exe" in response.text
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_a_too_large_file_is_refused(customer_client, service, priority, settings):
    """A file over ATTACHMENT_MAX_BYTES is refused with its name and the limit."""
    settings.ATTACHMENT_MAX_BYTES = 10
    response = customer_client.post(
        reverse("tickets:new"),
        {
            "service": service.pk,
            "priority": priority.pk,
            "subject": "Big file",
            "description": "See attached.",
            "attachments": [_upload("huge.log", b"x" * 100)],
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["attachments"]
    assert any("huge.log" in e and "limit" in e for e in errors)
    assert 'value="Big file"' in response.text
    assert not Ticket.objects.exists()


def test_a_priority_of_another_service_is_refused(customer_client, customer, service):
    """The priority must belong to the chosen service, checked on the server."""
    other = factories.ServiceFactory()
    services.customer_add_service(customer=customer, service=other)
    foreign = factories.PriorityFactory(service=other, code="P1")
    response = _submit(customer_client, service, foreign)
    assert response.status_code == 200
    assert "priority" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_a_service_i_am_not_a_customer_of_is_refused(customer_client):
    """Posting another service's id is refused even though the form never offered it."""
    other = factories.ServiceFactory()
    foreign = factories.PriorityFactory(service=other, code="P1")
    response = _submit(customer_client, other, foreign)
    assert response.status_code == 200
    assert "service" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_submission_is_throttled_per_hour(customer_client, customer, service, priority, settings):
    """Over TICKET_SUBMIT_LIMIT_PER_HOUR in a rolling hour: a clear error and nothing created."""
    settings.TICKET_SUBMIT_LIMIT_PER_HOUR = 2
    old = factories.TicketFactory(customer=customer, service=service, priority=priority)
    old.created_at = timezone.now() - timedelta(hours=2)
    old.save(update_fields=["created_at"])
    assert _submit(customer_client, service, priority).status_code == 302
    assert _submit(customer_client, service, priority).status_code == 302
    response = _submit(customer_client, service, priority, subject="Third in an hour")
    assert response.status_code == 200
    assert "2 tickets in the last hour" in response.text
    assert 'value="Third in an hour"' in response.text
    assert Ticket.objects.filter(customer=customer).count() == 3


def test_submit_records_the_confirmation_email(customer_client, customer, service, priority):
    """The service records the 'ticket received' email; the page itself sends nothing inline."""
    from notifications.models import Notification

    _submit(customer_client, service, priority)
    ticket = Ticket.objects.get()
    assert Notification.objects.filter(key=f"ticket:{ticket.pk}:received").exists()


# --- Detail and conversation -------------------------------------------------------------------


def test_detail_shows_the_public_conversation_but_never_internal_notes(
    customer_client, ticket, tier1_staff
):
    """Public replies are shown; an internal note's text never reaches the customer."""
    services.ticket_reply(ticket=ticket, author=tier1_staff, body="We are looking into it.")
    services.ticket_reply(
        ticket=ticket, author=tier1_staff, body="SECRET: customer is on old plan", internal=True
    )
    response = customer_client.get(ticket.get_absolute_url())
    assert response.status_code == 200
    assert "We are looking into it." in response.text
    assert "SECRET" not in response.text
    assert "Something is broken.<br>Second line." in response.text


def test_user_text_is_escaped(customer_client, customer, service, priority):
    """A subject or body holding HTML is shown as text, never run as markup."""
    ticket = factories.TicketFactory(
        customer=customer,
        service=service,
        priority=priority,
        subject="<script>alert(1)</script>",
        description="<img src=x onerror=alert(2)>",
    )
    Message.objects.create(ticket=ticket, author=customer, body="<b>bold</b>\nnext")
    for url in (ticket.get_absolute_url(), reverse("tickets:list"), reverse("home")):
        response = customer_client.get(url)
        assert "<script>alert(1)</script>" not in response.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    detail = customer_client.get(ticket.get_absolute_url()).text
    assert "<img src=x" not in detail and "&lt;img src=x onerror=alert(2)&gt;" in detail
    assert "&lt;b&gt;bold&lt;/b&gt;<br>next" in detail


def test_reply_with_attachment(customer_client, ticket):
    """The customer's reply joins the conversation with its file."""
    response = customer_client.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "Here is the log.", "attachments": [_upload("more.log", b"trace")]},
    )
    assert response.status_code == 302
    message = ticket.messages.get()
    assert message.body == "Here is the log." and message.author == ticket.customer
    assert message.attachments.get().name == "more.log"
    page = customer_client.get(ticket.get_absolute_url())
    assert "Here is the log." in page.text and "more.log" in page.text


def test_a_refused_reply_file_keeps_the_typed_reply(customer_client, ticket):
    """A refused file re-renders the reply form with the text kept and nothing saved."""
    response = customer_client.post(
        reverse("tickets:reply", args=[ticket.pk]),
        {"body": "My long explanation", "attachments": [_upload("x.exe", b"MZ")]},
    )
    assert response.status_code == 200
    assert "x.exe" in response.text and "My long explanation" in response.text
    assert not ticket.messages.exists()


def test_an_empty_reply_is_refused(customer_client, ticket):
    """A blank reply is an error on the form, not an empty message."""
    response = customer_client.post(reverse("tickets:reply", args=[ticket.pk]), {"body": "  "})
    assert response.status_code == 200
    assert response.context["reply_form"].errors
    assert not ticket.messages.exists()


def test_close(customer_client, ticket):
    """Close sets the ticket closed; a closed ticket offers no reply form."""
    response = customer_client.post(
        reverse("tickets:status", args=[ticket.pk]), {"status": "closed"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    page = customer_client.get(ticket.get_absolute_url())
    assert "This ticket is closed" in page.text
    assert page.context["can_reply"] is False


def test_reopen_a_resolved_ticket(customer_client, ticket, tier1_staff):
    """A resolved ticket shows Reopen; reopening makes it open and unresolved."""
    _resolved_ticket(ticket, tier1_staff)
    page = customer_client.get(ticket.get_absolute_url())
    assert "Reopen" in page.text
    customer_client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "open"})
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.resolved_at is None


def test_reopen_is_refused_unless_resolved(customer_client, ticket):
    """A new ticket cannot be 'reopened': a clear message, nothing changed."""
    response = customer_client.post(
        reverse("tickets:status", args=[ticket.pk]), {"status": "open"}, follow=True
    )
    assert "cannot be set to open" in response.text
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


def test_rate_and_change(customer_client, ticket, tier1_staff):
    """A resolved ticket shows the rating form; after rating it shows the rating in the form,
    which changes it (for 7 days: test_customer_rating.py)."""
    _resolved_ticket(ticket, tier1_staff)
    page = customer_client.get(ticket.get_absolute_url())
    assert 'id="rate"' in page.text and page.context["rating_form"] is not None
    response = customer_client.post(
        reverse("tickets:rate", args=[ticket.pk]), {"rating": "4", "comment": "Quick, thanks"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#rate")
    ticket.refresh_from_db()
    assert (ticket.rating, ticket.rating_comment) == (4, "Quick, thanks")

    page = customer_client.get(ticket.get_absolute_url())
    assert page.context["rating_form"]["rating"].value() == 4
    assert "4/5" in page.text and "Quick, thanks" in page.text

    customer_client.post(reverse("tickets:rate", args=[ticket.pk]), {"rating": "1"}, follow=True)
    ticket.refresh_from_db()
    assert ticket.rating == 1


def test_rating_an_unresolved_ticket_is_refused(customer_client, ticket):
    """No rating form and no rating before the ticket is resolved."""
    assert customer_client.get(ticket.get_absolute_url()).context["rating_form"] is None
    customer_client.post(reverse("tickets:rate", args=[ticket.pk]), {"rating": "5"})
    ticket.refresh_from_db()
    assert ticket.rating is None


def test_post_endpoints_refuse_get_on_my_own_ticket(customer_client, ticket):
    """Reply, status and rate change things, so they answer only POST."""
    for name in ("tickets:reply", "tickets:status", "tickets:rate"):
        assert customer_client.get(reverse(name, args=[ticket.pk])).status_code == 405


def test_post_endpoints_need_the_csrf_token(customer, ticket):
    """A cross-site form cannot close a customer's ticket: no CSRF token, 403."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(customer)
    response = client.post(reverse("tickets:status", args=[ticket.pk]), {"status": "closed"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


def test_staff_see_customer_pages_only_for_their_own_tickets(client, tier3_staff, ticket):
    """Staff work tickets in admin; the customer pages do not open another's ticket to them."""
    client.force_login(tier3_staff)
    assert client.get(ticket.get_absolute_url()).status_code == 404


# --- Attachments ---------------------------------------------------------------------------------


def _ticket_with_file(customer, service, priority):
    return services.ticket_create(
        customer=customer,
        service=service,
        priority=priority,
        subject="With a file",
        description="See the file.",
        attachments=[_upload("report.pdf", b"%PDF-1.4 data", "application/pdf")],
    )


def test_owner_downloads_an_attachment(customer_client, customer, service, priority):
    """The ticket's customer gets the file as a download with its original name."""
    ticket = _ticket_with_file(customer, service, priority)
    attachment = ticket.attachments.get()
    response = customer_client.get(attachment.get_absolute_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 data"
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert attachment.get_absolute_url() in customer_client.get(ticket.get_absolute_url()).text


def test_another_customer_cannot_download(client, customer, other_customer, service, priority):
    """Another customer gets 404 for the file, as if it did not exist."""
    attachment = _ticket_with_file(customer, service, priority).attachments.get()
    client.force_login(other_customer)
    assert client.get(attachment.get_absolute_url()).status_code == 404


def test_an_internal_note_file_is_404_for_the_customer(customer_client, ticket, tier1_staff):
    """A file attached to an internal note is invisible to the customer, even by URL."""
    note = services.ticket_reply(
        ticket=ticket,
        author=tier1_staff,
        body="internal analysis",
        internal=True,
        attachments=[_upload("analysis.txt", b"private")],
    )
    attachment = note.attachments.get()
    assert customer_client.get(attachment.get_absolute_url()).status_code == 404
    assert "analysis.txt" not in customer_client.get(ticket.get_absolute_url()).text


def test_attachment_url_with_a_mismatched_ticket_is_404(
    customer_client, customer, service, priority
):
    """The file id must belong to the ticket id in the URL."""
    attachment = _ticket_with_file(customer, service, priority).attachments.get()
    mine_too = factories.TicketFactory(customer=customer, service=service, priority=priority)
    url = reverse("tickets:attachment", args=[mine_too.pk, attachment.pk])
    assert customer_client.get(url).status_code == 404


# --- Home ----------------------------------------------------------------------------------------


def test_home_dashboard(customer_client, ticket):
    """Signed in, home shows the active count, the customer's services and recent tickets."""
    response = customer_client.get(reverse("home"))
    assert response.status_code == 200
    assert response.context["active_count"] == 1
    assert ticket.subject in response.text
    assert ticket.service.name in response.text
    assert reverse("tickets:new") in response.text


def test_home_for_anonymous_visitors(client, db):
    """Anonymous, home explains the portal and links to log in, sign up, status, maintenance."""
    response = client.get(reverse("home"))
    assert response.status_code == 200
    for name in ("login", "signup", "status", "maintenance:calendar"):
        assert reverse(name) in response.text


def test_home_links_staff_to_admin(client, tier1_staff):
    """A staff member landing on / is pointed to the admin."""
    client.force_login(tier1_staff)
    assert reverse("admin:index") in client.get(reverse("home")).text


def test_maintenance_banner_renders_defensively(db):
    """Banners show title and message escaped; a missing or unknown level falls back to info."""
    from django.template.loader import render_to_string

    html = render_to_string(
        "base.html",
        {
            "maintenance_banners": [
                {"title": "DB upgrade", "message": "<b>down</b> 10 min", "level": "warning"},
                {"message": "No title or level"},
                {"title": "Odd", "level": "x onmouseover=alert(1)"},
            ]
        },
    )
    assert "alert-warning" in html and "DB upgrade" in html
    assert "&lt;b&gt;down&lt;/b&gt; 10 min" in html
    assert "No title or level" in html
    assert "onmouseover" not in html


def test_public_maintenance_and_status_pages_render(client, service):
    """Anyone sees each service on the calendar (nothing scheduled yet) and as Operational."""
    calendar = client.get(reverse("maintenance:calendar"))
    assert calendar.status_code == 200
    assert service.name in calendar.text and "No maintenance windows are scheduled" in calendar.text
    status = client.get(reverse("status"))
    assert status.status_code == 200
    assert service.name in status.text and "Operational" in status.text
