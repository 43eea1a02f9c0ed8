"""Which ticket a reply belongs to, which service a new email is for, and who sent it."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model

from sla.models import Service
from tickets.mail_thread import sender_parts, ticket_pk_from_message_id, ticket_pk_from_reply_token
from tickets.models import Ticket

from .parsing import ticket_number_in_subject


def sender_user(address):
    """The active account using ``address``; None when there is none (or, oddly, several).

    Read ``FOR UPDATE`` (call it inside the acting transaction): the sender's row is locked
    first, as ``hold_customer`` would in ``ticket_create`` and ``ticket_reply``, so the ticket
    a reply matches can be locked next (``reply_target``) in their order, customer then ticket,
    and ``ticket_reply`` takes neither lock again.
    """
    # With the profile (its time zone dates the confirmation): no query for it later.
    users = list(
        get_user_model()
        .objects.filter(email__iexact=address, is_active=True)
        .select_related("profile")
        .select_for_update(of=("self",))
        .order_by("pk")[:2]
    )
    return users[0] if len(users) == 1 else None


def reply_target(mail, user):
    """(ticket, how it was matched) for a reply to one of our emails, or (None, "").

    In this order: (a) the signed token of our Reply-To plus-address among the recipients,
    (b) a Message-ID we made in In-Reply-To or References, (c) ``[#N]`` in the subject, but
    only when the sender owns ticket N (the number alone proves nothing).

    The ticket is read ``FOR UPDATE`` with what ``ticket_reply`` needs (its service, priority
    and calendar, and its customer), after the sender's row (``sender_user``): the one read of
    it, handed to ``ticket_reply(locked=True)``.
    """
    for address in mail.recipients:
        local = address.rpartition("@")[0]
        if "+" in local:
            pk = ticket_pk_from_reply_token(local.split("+", 1)[1])
            ticket = _ticket(pk)
            if ticket is not None:
                return ticket, "reply address token"
    for message_id in mail.references:
        ticket = _ticket(ticket_pk_from_message_id(message_id))
        if ticket is not None:
            return ticket, "In-Reply-To/References"
    number = ticket_number_in_subject(mail.subject)
    if number is not None and user is not None:
        ticket = _locked_tickets().filter(pk=number, customer=user).first()
        if ticket is not None:
            return ticket, f"subject [#{number}]"
    return None, ""


def _ticket(pk):
    if pk is None:
        return None
    return _locked_tickets().filter(pk=pk).first()


def _locked_tickets():
    return Ticket.objects.select_for_update(of=("self",)).select_related(
        "service", "customer", "priority", "priority__calendar"
    )


def _without_tag(address):
    """``support+anything@x`` → ``support@x`` (sub-addresses of a service address are its)."""
    local, _, domain = address.rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


_batch_addresses = ContextVar("inbound_service_addresses", default=None)


@contextmanager
def service_addresses_read_once():
    """Within the block, the service addresses are read once (a batch of fetched mail: a
    plan loaded meanwhile applies from the next batch)."""
    token = _batch_addresses.set({})
    try:
        yield
    finally:
        _batch_addresses.reset(token)


def _service_addresses():
    """Every service address (``contact`` and the plan's ``inbound`` list), lowercase → service.

    Read whole: a portal has tens of services, not thousands, and a JSON list is not portably
    searchable in SQL.
    """
    cache = _batch_addresses.get()
    if cache:
        return cache
    addresses = {} if cache is None else cache
    for service in Service.objects.only("pk", "slug", "name", "contact", "inbound"):
        for address in [service.contact, *(service.inbound or [])]:
            if address:
                addresses.setdefault(address.strip().lower(), service)
    return addresses


def service_for(recipients):
    """The service whose address (the plan's ``contact`` or one of its ``inbound``) is among
    the recipients, the first recipient's first; or None."""
    addresses = _service_addresses()
    for address in recipients:
        for candidate in (address, _without_tag(address)):
            if candidate in addresses:
                return addresses[candidate]
    return None


def own_address():
    """The portal's own sender address (``DEFAULT_FROM_EMAIL``), lowercase."""
    _name, local, domain = sender_parts()
    return f"{local}@{domain}".lower()


def without_tag(address):
    return _without_tag(address)


def is_our_address(address):
    """Mail from the portal's own sender or a service address: answering it would loop."""
    ours = own_address()
    if address == ours or _without_tag(address) == ours:
        return True
    return _without_tag(address) in _service_addresses()
