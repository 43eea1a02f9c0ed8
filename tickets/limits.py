"""How much a customer may send: text size per ticket or reply, tickets and replies per hour.

Shared by the customer forms (a clear error on the field) and the services (the rule itself, so
no path around the forms skips it). The hourly limits are counted under a lock on the
customer's own row, so concurrent submissions queue behind each other instead of all counting
the same number before any of them inserts.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from .selectors import customer_reply_count_since, ticket_count_created_since

HOUR = timedelta(hours=1)


def validate_text_size(text):
    """Refuse a description or reply longer than ``TICKET_TEXT_MAX_BYTES`` in UTF-8."""
    limit = settings.TICKET_TEXT_MAX_BYTES
    size = len(text.encode("utf-8"))
    if size > limit:
        raise ValidationError(
            f"This text is {filesizeformat(size)}; the most we accept is "
            f"{filesizeformat(limit)}. Attach long logs or outputs as a file instead.",
            code="too_long",
        )


def hold_customer(customer):
    """Lock the customer's user row until the transaction ends (PostgreSQL; SQLite writes one
    transaction at a time anyway): one customer's counted writes run one after another."""
    list(get_user_model().objects.select_for_update().filter(pk=customer.pk).values_list("pk"))


def check_ticket_limit(customer, *, now):
    """Refuse a ticket beyond ``TICKET_SUBMIT_LIMIT_PER_HOUR``; call under ``hold_customer``."""
    limit = settings.TICKET_SUBMIT_LIMIT_PER_HOUR
    if ticket_count_created_since(user=customer, since=now - HOUR) >= limit:
        raise ValidationError(
            f"You have submitted {limit} tickets in the last hour, the most we accept. "
            "Please wait a while, or add to one of your open tickets.",
            code="throttled",
        )


def check_reply_limit(customer, *, now):
    """Refuse a reply beyond ``TICKET_REPLY_LIMIT_PER_HOUR``; call under ``hold_customer``."""
    limit = settings.TICKET_REPLY_LIMIT_PER_HOUR
    if customer_reply_count_since(user=customer, since=now - HOUR) >= limit:
        raise ValidationError(
            f"You have added {limit} replies in the last hour, the most we accept. "
            "Please wait a while before replying again.",
            code="throttled",
        )
