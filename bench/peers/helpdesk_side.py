"""django-helpdesk's side of bench/peers/django_helpdesk.py; runs in the peer's virtualenv.

    PEER_DATABASE_URL=... python helpdesk_side.py --tickets N --lapsed L

Migrates its database, seeds N open tickets in one queue that escalates after 1 day: L of them
opened 1 day and 2 hours ago (past due), the rest opened over the last day with due dates
ahead, all priority 2 ("high", as our P1), each with a submitter and an assignee (so an
escalation emails two people, as ours emails Tier 2's two members). Then it times
``manage.py escalate_tickets`` in this process, counting its queries and the emails it built,
then the staff ticket list's first page (its datatable) and, after giving one customer
``--customer-tickets`` tickets of their own (bench/peers/customer_plan.py), that customer's
ticket list ("My Tickets"), and prints one JSON line.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk_settings")

import django  # noqa: E402

django.setup()

from customer_plan import CUSTOMER_EMAIL, customer_tickets  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from page_timing import measure  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--lapsed", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=10, help="requests of each ticket list")
    parser.add_argument("--customer-tickets", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from helpdesk.models import Queue, Ticket

    now = timezone.now()
    queue = Queue.objects.create(
        title="Bench", slug="bench", escalate_days=1, email_address="queue@example.com"
    )
    owner = get_user_model().objects.create(username="owner", email="owner@example.com")
    batch = []
    for g in range(1, args.tickets + 1):
        created = (
            now - timedelta(days=1, hours=2)
            if g <= args.lapsed
            else now - timedelta(seconds=g % 80_000)
        )
        batch.append(  # created: set below
            Ticket(
                title=f"SLA bench ticket {g}",
                queue=queue,
                created=created,
                modified=created,
                submitter_email=f"customer{g % 1000}@example.com",
                assigned_to=owner,
                status=Ticket.OPEN_STATUS,
                description="Generated.",
                priority=2,
                due_date=created + timedelta(hours=1),
            )
        )
        if len(batch) == 5000:
            Ticket.objects.bulk_create(batch)
            batch = []
    Ticket.objects.bulk_create(batch)
    # created is auto_now_add (bulk_create stamps it now): the ages are set afterwards.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE helpdesk_ticket SET created = CASE WHEN id - %s <= %s "
            "THEN %s - interval '26 hours' ELSE %s - ((id %% 80000) || ' seconds')::interval END, "
            "modified = created",
            [
                Ticket.objects.order_by("id").values_list("id", flat=True).first() - 1,
                args.lapsed,
                now,
                now,
            ],
        )
        cursor.execute(
            "UPDATE helpdesk_ticket SET modified = created, due_date = created + interval '1 hour'"
        )
        cursor.execute("ANALYZE")
    mail.outbox = []
    queries = []

    def count(execute, sql, params, many, context):
        # Not CaptureQueriesContext: Django keeps the last 9,000 queries only
        # (queries_limit), and 10,000 escalations make more.
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        started = time.perf_counter()
        call_command("escalate_tickets")
        elapsed = time.perf_counter() - started
    result = {
        "seconds": round(elapsed, 3),
        "queries": len(queries),
        "escalated": Ticket.objects.filter(priority=1).count(),
        "emails": len(mail.outbox),
        "tickets": args.tickets,
    }
    result["list"] = ticket_list(args.repeat)
    result["customer_list"] = customer_ticket_list(queue, args.customer_tickets, args.repeat)
    print(json.dumps(result))


def ticket_list(repeat):
    """The staff ticket list's first page: the datatable the list page loads (its default
    query: open and reopened tickets, by creation), median of ``repeat`` after a warm-up."""
    from helpdesk.query import query_to_base64

    staff = get_user_model().objects.create(
        username="staff", email="staff@example.com", is_staff=True, is_superuser=True
    )
    client = Client()
    client.force_login(staff)
    query = query_to_base64(
        {
            "filtering": {"status__in": [1, 2]},
            "sorting": "created",
            "search_string": "",
            "sortreverse": False,
        }
    )
    path = f"/helpdesk/datatables_ticket_list/{query}?draw=1&start=0&length=25"
    return measure(client, [path], repeat)


def customer_ticket_list(queue, count, repeat):
    """The customer's own tickets as a signed-in customer (not staff) sees them: the "My
    Tickets" page (``helpdesk:my-tickets``), which is an empty table, and the first page of
    the API it then loads with its tickets (``helpdesk:user_tickets-list``, 25 a page, what
    the page's script asks for). Both requests count: the list is on screen after the
    second."""
    from helpdesk.models import Ticket

    states = {
        "open": Ticket.OPEN_STATUS,
        "resolved": Ticket.RESOLVED_STATUS,
        "closed": Ticket.CLOSED_STATUS,
    }
    customer = get_user_model().objects.create(
        username="bench-peers-customer", email=CUSTOMER_EMAIL
    )
    for subject, state, created in customer_tickets(count, timezone.now()):
        ticket = Ticket.objects.create(
            title=subject,
            queue=queue,
            submitter_email=CUSTOMER_EMAIL,
            status=states[state],
            description="Generated.",
            priority=2,  # high, as ours (the bench service's one priority)
        )
        # created and modified are stamped on save: the ages are set afterwards.
        Ticket.objects.filter(pk=ticket.pk).update(created=created, modified=created)
    client = Client()
    client.force_login(customer)
    paths = ["/helpdesk/tickets/my-tickets/", "/helpdesk/api/user_tickets/?page=1"]
    result = measure(client, paths, repeat)
    shown = client.get(paths[1]).json()
    assert shown["count"] == count and len(shown["results"]) == min(25, count), shown["count"]
    result.update(tickets=count, shown=len(shown["results"]))
    return result


if __name__ == "__main__":
    main()
