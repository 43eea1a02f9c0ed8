"""Our side of the peers' ticket lists, over bench/peers/django_helpdesk.py's database (after
our sweep), each the median of ``--repeat`` requests through Django's handler (as
bench/pages.py) with its queries, timed as the peer's (bench/peers/page_timing.py):

- staff: the admin ticket changelist's first page for a superuser;
- customer: "my tickets" (``/tickets/``, 25 a page) for a customer of the bench service given
  ``--customer-tickets`` tickets of their own first, the same as the peer's customer's
  (bench/peers/customer_plan.py).

Prints one JSON line: the staff list's median_ms, queries and requests, and the customer's
list under "customer"."""

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from common import setup_django  # noqa: E402
from customer_plan import CUSTOMER_EMAIL, customer_tickets  # noqa: E402
from page_timing import measure  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--customer-tickets", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    staff = staff_list(args.repeat)
    # The staff list's figures at the top (as this script printed before it had the customer's
    # list, so a driver started earlier still reads them), the customer's under "customer".
    print(json.dumps({**staff, "customer": customer_list(args.customer_tickets, args.repeat)}))


def staff_list(repeat):
    from django.contrib.auth import get_user_model
    from django.test import Client

    admin, _ = get_user_model().objects.get_or_create(
        username="bench-peers-admin",
        defaults={"email": "bench-peers-admin@example.com", "is_staff": True, "is_superuser": True},
    )
    client = Client()
    client.force_login(admin)
    return measure(client, ["/admin/tickets/ticket/"], repeat)


def customer_list(count, repeat):
    """The customer of bench/sla_sweep.py's service with ``count`` tickets of their own (none
    of the sweep's: those all belong to one customer), their "my tickets" first page."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from sla.models import Priority, Service, ServiceCustomer
    from tickets.models import Ticket
    from tickets.selectors import ticket_list_for_customer

    service = Service.objects.get(slug="bench-sla")
    priority = Priority.objects.get(service=service, code="P1")
    customer, _ = get_user_model().objects.get_or_create(
        username=CUSTOMER_EMAIL, defaults={"email": CUSTOMER_EMAIL}
    )
    ServiceCustomer.objects.get_or_create(service=service, customer=customer)
    if not Ticket.objects.filter(customer=customer).exists():
        states = {
            "open": Ticket.Status.OPEN,
            "resolved": Ticket.Status.RESOLVED,
            "closed": Ticket.Status.CLOSED,
        }
        Ticket.objects.bulk_create(
            Ticket(
                service=service,
                priority=priority,
                customer=customer,
                subject=subject,
                description="Generated.",
                status=states[state],
                created_at=created,
                updated_at=created,
                first_response_at=created,
                resolved_at=created if state != "open" else None,
                closed_at=created if state == "closed" else None,
            )
            for subject, state, created in customer_tickets(count, timezone.now())
        )
    client = Client()
    client.force_login(customer)
    result = measure(client, ["/tickets/"], repeat)
    mine = ticket_list_for_customer(user=customer, include_shared=True).count()
    shown = client.get("/tickets/").content.decode().count("Customer bench ticket ")
    assert mine == count and shown == min(25, count), (mine, shown)
    result.update(tickets=count, shown=shown)
    return result


if __name__ == "__main__":
    main()
