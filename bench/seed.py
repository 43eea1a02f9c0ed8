"""Fill the benchmark database with N tickets in a few set-based INSERTs.

    python bench/seed.py --tickets 1000000 [--fresh]

Customers ``bench{i}@example.com`` (password ``bench-password-2026``) own ~50 tickets each;
``bench-small@example.com`` owns one ticket, to compare query counts. Staff ``bench-tier1``
(Tier 1) and ``bench-admin`` (superuser) work the admin. Not committed data: generated here.
"""

import argparse
import time

from common import BENCH_PASSWORD, prepare_database

TICKETS_PER_CUSTOMER = 50


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    args = parser.parse_args()
    prepare_database(fresh=args.fresh)
    started = time.perf_counter()
    seed(args.tickets)
    print(f"seeded {args.tickets:,} tickets in {time.perf_counter() - started:.1f}s")


def seed(n_tickets):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection

    from sla.models import Priority, Service
    from tickets.models import Ticket

    if Ticket.objects.filter(subject__startswith="Bench ticket").exists():
        print("already seeded; use --fresh to start again")
        return
    service, _ = Service.objects.get_or_create(slug="bench", defaults={"name": "Bench service"})
    for position, (code, name) in enumerate(
        [("P0", "Critical"), ("P1", "High"), ("P2", "Medium"), ("P3", "Low")]
    ):
        Priority.objects.get_or_create(
            service=service,
            code=code,
            defaults={"name": name, "response": "1h", "resolution": "8h", "position": position},
        )
    priorities = list(Priority.objects.filter(service=service).values_list("pk", flat=True))
    users = get_user_model().objects
    password = make_password(BENCH_PASSWORD)
    tier1, _ = users.get_or_create(
        username="bench-tier1",
        defaults={"email": "bench-tier1@example.com", "is_staff": True, "password": password},
    )
    tier1.groups.add(Group.objects.get(name="Tier 1"))
    users.get_or_create(
        username="bench-admin",
        defaults={
            "email": "bench-admin@example.com",
            "is_staff": True,
            "is_superuser": True,
            "password": password,
        },
    )
    small, _ = users.get_or_create(
        username="bench-small@example.com",
        defaults={"email": "bench-small@example.com", "password": password},
    )
    n_customers = max(1, n_tickets // TICKETS_PER_CUSTOMER)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                   email, is_staff, is_active, date_joined)
            SELECT %s, false, 'bench' || g || '@example.com', 'Bench', 'Customer ' || g,
                   'bench' || g || '@example.com', false, true, now()
            FROM generate_series(1, %s) AS g
            """,
            [password, n_customers],
        )
        cursor.execute(
            """
            INSERT INTO sla_servicecustomer (service_id, customer_id, created_at)
            SELECT %s, id, now() FROM auth_user
            WHERE username LIKE 'bench%%@example.com'
            """,
            [service.pk],
        )
        cursor.execute(
            "SELECT min(id), max(id) FROM auth_user WHERE username ~ '^bench[0-9]+@example.com$'"
        )
        first, last = cursor.fetchone()
        # Spread over 2 years; 40 % active, tiers 70/20/10 %. For the success metrics (bench/
        # metrics.py), the SLA outcomes vary as in real life, driven by hashes of g that do not
        # follow its status cycle: first responses after 1–75 min (the 1 h target met ~80 %),
        # resolutions 30 min–12.5 h after creation (the 8 h target met ~62 %), a quarter of the
        # closed tickets closed without a resolution, 40 % of resolved tickets rated 1–5
        # (mostly 4–5); a new ticket is past its response deadline, an active one carries its
        # resolution deadline, a waiting one is paused.
        cursor.execute(
            """
            INSERT INTO tickets_ticket (service_id, customer_id, priority_id, subject, description,
                status, tier, created_at, updated_at, rating_comment, sla_pauses,
                first_response_at, response_met, response_due_at, resolved_at, resolution_met,
                resolution_due_at, paused_at, closed_at, rating, rated_at)
            SELECT %(service)s,
                   %(first)s + (g %% %(customers)s),
                   (%(priorities)s::bigint[])[1 + (g %% 4)],
                   'Bench ticket ' || g,
                   'Generated for the benchmark.' || chr(10) || 'Line two of ' || g,
                   status, tier, created, created + interval '5 minutes', '', '[]'::jsonb,
                   CASE WHEN status <> 'new' THEN created + respond END,
                   CASE WHEN status <> 'new' THEN respond <= interval '1 hour' END,
                   CASE WHEN status = 'new' THEN created + interval '1 hour' END,
                   resolved,
                   CASE WHEN resolved IS NOT NULL THEN resolve <= interval '8 hours' END,
                   CASE WHEN resolved IS NULL AND status <> 'closed'
                        THEN created + interval '8 hours' END,
                   CASE WHEN status = 'waiting_on_customer'
                        THEN created + interval '30 minutes' END,
                   CASE WHEN status = 'closed'
                        THEN LEAST(COALESCE(resolved, created) + interval '1 day', now()) END,
                   CASE WHEN resolved IS NOT NULL AND h3 %% 10 < 4
                        THEN (ARRAY[5, 5, 4, 4, 5, 3, 4, 2, 5, 1])[1 + h3 / 10 %% 10] END,
                   CASE WHEN resolved IS NOT NULL AND h3 %% 10 < 4
                        THEN LEAST(resolved + interval '1 hour', now()) END
            FROM (
                SELECT *,
                       CASE WHEN status = 'resolved' OR (status = 'closed' AND h2 %% 4 <> 0)
                            THEN LEAST(created + resolve, now()) END AS resolved
                FROM (
                    SELECT g, h2, h3,
                           CASE WHEN g %% 10 < 4
                                THEN (ARRAY['new','open','waiting_on_customer'])[1 + g %% 3]
                                WHEN g %% 10 < 8 THEN 'resolved' ELSE 'closed' END AS status,
                           CASE WHEN g %% 10 < 7 THEN 1 WHEN g %% 10 < 9 THEN 2 ELSE 3 END AS tier,
                           now() - (g || ' minutes')::interval AS created,
                           ((1 + h1 %% 75) || ' minutes')::interval AS respond,
                           ((30 + h2 / 7 %% 720) || ' minutes')::interval AS resolve
                    FROM (
                        SELECT g,
                               g::bigint * 2654435761 %% 1000003 AS h1,
                               (g::bigint * 40503 + 12345) %% 1000033 AS h2,
                               (g::bigint * 69069 + 1) %% 999983 AS h3
                        FROM generate_series(1, %(n)s) AS g
                    ) AS hashed
                ) AS shaped
            ) AS t
            """,
            {
                "service": service.pk,
                "first": first,
                "customers": last - first + 1,
                "priorities": priorities,
                "n": n_tickets,
            },
        )
        # A short conversation on the first customers' tickets (those the load test opens).
        cursor.execute(
            """
            INSERT INTO tickets_message (ticket_id, author_id, body, internal, created_at)
            SELECT t.id, t.customer_id, 'Message ' || k || ' on ' || t.id, false,
                   t.created_at + (k || ' minutes')::interval
            FROM tickets_ticket t CROSS JOIN generate_series(1, 3) AS k
            WHERE t.customer_id < %s
            """,
            [first + 100],
        )
        cursor.execute("ANALYZE")
    Ticket.objects.create(
        service=service,
        customer=small,
        priority_id=priorities[0],
        subject="Bench small customer's ticket",
        description="One ticket only.",
    )
    from sla.models import ServiceCustomer

    ServiceCustomer.objects.get_or_create(service=service, customer=small)


if __name__ == "__main__":
    main()
