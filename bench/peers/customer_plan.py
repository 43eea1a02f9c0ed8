"""The customer whose ticket list both sides show: the same address, the same tickets (subject,
state, age) on each, from this one plan. Imported by both sides (each virtualenv), no Django."""

from datetime import timedelta

CUSTOMER_EMAIL = "bench-peers-customer@example.com"


def customer_tickets(count, now):
    """``count`` tickets, one opened every two days back from ``now``: a third still open, a
    third resolved, a third closed, as a customer of a few months' standing has them. Yields
    (subject, state, created) with state "open", "resolved" or "closed"."""
    states = ("open", "resolved", "closed")
    for k in range(count):
        yield (
            f"Customer bench ticket {k + 1}",
            states[k % 3],
            now - timedelta(days=2 * k, hours=1),
        )
