"""Canned replies filled in for one ticket: the placeholders, and nothing else, are replaced."""

import re

from .templatetags.staff_time import local_time

PLACEHOLDERS = ("customer_name", "ticket_number", "response_due", "resolution_due")
_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def canned_reply_values(ticket, zone):
    """What each placeholder stands for on ``ticket``, times in ``zone`` with its name."""
    customer = ticket.customer
    return {
        "customer_name": customer.get_full_name() or customer.email,
        "ticket_number": ticket.number,
        "response_due": local_time(ticket.response_due_at, zone)
        if ticket.response_due_at
        else "no response target",
        "resolution_due": local_time(ticket.resolution_due_at, zone)
        if ticket.resolution_due_at
        else "no resolution target",
    }


def render_canned_reply(body, values):
    """``body`` with each known ``{placeholder}`` replaced by its value, as plain text.

    Not ``str.format``: a brace or ``{0.__class__}`` in a reply stays text, never an attribute
    lookup, and an unknown name is left as written for staff to see and fix.
    """
    return _PLACEHOLDER.sub(lambda match: str(values[match[1]]), body)
