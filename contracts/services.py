"""Every write of organisations, contracts and time entries. Each is one transaction, and the
usage emails are recorded in the outbox inside the transaction that causes them.

Writes that change an organisation's month (logging time, changing its contract) first lock
the organisation's row, so they run one after another per organisation: each one sums the
month with every earlier entry committed, and no threshold is missed or emailed twice when
two staff log time at the same moment.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import emails as account_emails
from accounts.roles import staff_tier_level
from core.periods import first_of, month_bounds, month_of, previous_month
from tickets.models import TicketCC
from tickets.selectors import tickets_for_staff
from tickets.services import customer_add_service

from . import emails
from .models import (
    ContractPeriod,
    Organization,
    OrganizationDomain,
    OrganizationMember,
    TimeEntry,
    UsageAlert,
)
from .selectors import contract_in_force, organization_month_usage

# One entry is one stretch of work: a day or more is a typo, not a log.
MAX_ENTRY_MINUTES = 24 * 60
NOTE_MAX_LENGTH = TimeEntry._meta.get_field("note").max_length
THRESHOLDS = tuple(UsageAlert.Threshold.values)  # (80, 100), lowest first


def _require_staff(user, message="Only staff may do this."):
    if staff_tier_level(user) is None:
        raise PermissionDenied(message)


def _lock(organization):
    return (
        Organization.objects.select_for_update(of=("self",))
        .select_related("service")
        .get(pk=organization.pk)
    )


# --- organisations ---------------------------------------------------------------------------


def organization_name_problem(*, name, organization=None):
    """Why ``name`` (stripped) cannot name ``organization`` (None: a new one), or "" (shared
    with the admin's form). Names are unique whatever the case: "ACME" and "Acme" are one
    customer to the people reading the report."""
    if not name:
        return "Give the organisation a name."
    taken = Organization.objects.filter(name__iexact=name)
    if organization is not None:
        taken = taken.exclude(pk=organization.pk)
    return f"There is already an organisation named {name!r}." if taken.exists() else ""


def _valid_name(name, organization=None):
    name = (name or "").strip()
    problem = organization_name_problem(name=name, organization=organization)
    if problem:
        raise ValidationError({"name": problem})
    return name


@transaction.atomic
def organization_create(*, name, service, by):
    _require_staff(by)
    return Organization.objects.create(name=_valid_name(name), service=service)


@transaction.atomic
def organization_rename(*, organization, name, by):
    _require_staff(by)
    name = _valid_name(name, organization)
    organization = _lock(organization)
    if organization.name != name:
        organization.name = name
        organization.save(update_fields=["name"])
    return organization


def member_problem(*, organization, user):
    """Why ``user`` cannot join ``organization``, or "" (shared with the admin's form)."""
    if user.is_staff:
        return "Staff cannot be members of a customer organisation."
    if not user.is_active:
        return f"{user.email or user.get_username()} is not an active account."
    other = (
        OrganizationMember.objects.filter(user_id=user.pk)
        .exclude(organization_id=organization.pk)
        .select_related("organization")
        .first()
    )
    if other is not None:
        return f"{user.email or user.get_username()} already belongs to {other.organization}."
    return ""


@transaction.atomic
def organization_add_member(*, organization, user, by):
    """Make a customer a member, with access to the organisation's service (the customer is
    emailed when that is their first access); a user in another organisation is refused."""
    _require_staff(by)
    return _join(organization, user)


def _join(organization, user):
    organization = _lock(organization)
    problem = member_problem(organization=organization, user=user)
    if problem:
        raise ValidationError({"user": problem})
    member = OrganizationMember.objects.filter(organization=organization, user=user).first()
    if member is None:
        try:
            # Two organisations adding the same user at once: the unique user column decides.
            with transaction.atomic():
                member = OrganizationMember.objects.create(organization=organization, user=user)
        except IntegrityError:
            raise ValidationError(
                {"user": f"{user.email} was just added to another organisation."}
            ) from None
    # A member files tickets for the organisation's service: membership is the access.
    customer_add_service(customer=user, service=organization.service)
    return member


# --- email domains and sign-up ---------------------------------------------------------------

# Addresses anyone can get: a domain among these says nothing about whom someone works for.
PUBLIC_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
    }
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def email_domain_normalize(domain):
    """The domain as stored (lower-case, no "@" or trailing dot), or ``ValidationError``."""
    domain = (domain or "").strip().lower().lstrip("@").rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValidationError(f"“{domain}” is not a domain name.") from None
    labels = domain.split(".")
    if len(domain) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        raise ValidationError(f"“{domain}” is not a domain name (like example.com).")
    if domain in PUBLIC_EMAIL_DOMAINS:
        raise ValidationError(
            f"{domain} is a public email service: anyone can have an address there."
        )
    return domain


def email_domain_problem(*, domain, organization=None):
    """Why ``domain`` (normalised) cannot be ``organization``'s, or "" (shared with the admin)."""
    taken = OrganizationDomain.objects.filter(domain=domain).select_related("organization")
    if organization is not None and organization.pk:
        taken = taken.exclude(organization_id=organization.pk)
    other = taken.first()
    return f"{domain} is already a domain of {other.organization}." if other else ""


@transaction.atomic
def organization_set_domains(*, organization, domains, by):
    """Make ``domains`` exactly the organisation's email domains."""
    _require_staff(by)
    organization = _lock(organization)
    wanted = []
    for domain in domains:
        domain = email_domain_normalize(domain)
        problem = email_domain_problem(domain=domain, organization=organization)
        if problem:
            raise ValidationError({"email_domains": problem})
        if domain not in wanted:
            wanted.append(domain)
    organization.email_domains.exclude(domain__in=wanted).delete()
    have = set(organization.email_domains.values_list("domain", flat=True))
    for domain in wanted:
        if domain not in have:
            try:
                with transaction.atomic():
                    OrganizationDomain.objects.create(organization=organization, domain=domain)
            except IntegrityError:  # another organisation took it a moment ago
                raise ValidationError(
                    {"email_domains": f"{domain} was just given to another organisation."}
                ) from None
    return wanted


@transaction.atomic
def organization_set_colleagues_see_tickets(*, organization, value, by):
    """Whether members may read, reply to and follow each other's tickets of its service."""
    _require_staff(by)
    organization = _lock(organization)
    if organization.colleagues_see_tickets != bool(value):
        organization.colleagues_see_tickets = bool(value)
        organization.save(update_fields=["colleagues_see_tickets"])
    return organization


def organization_for_email(email):
    """The organisation whose email domain ``email`` is on, or None."""
    domain = email.rpartition("@")[2].strip().lower().rstrip(".")
    if not domain:
        return None
    row = OrganizationDomain.objects.filter(domain=domain).select_related("organization").first()
    return row.organization if row else None


@transaction.atomic
def customer_onboard(*, user):
    """A customer has just verified their address: give them access, or queue them for staff.

    An address on an organisation's email domain joins that organisation and its service at
    once (the customer is emailed that access is granted). Any other address is a sign-up
    waiting for access: the staff who handle it (``accounts.emails.signup_waiting``) are told,
    and the customer's dashboard says so. Returns the membership, or None when waiting.
    """
    if user.is_staff or not user.is_active:
        return None
    organization = organization_for_email(user.email)
    if organization is not None:
        already = OrganizationMember.objects.filter(user_id=user.pk).first()
        if already is None or already.organization_id == organization.pk:
            return _join(organization, user)
    if not user.service_memberships.exists():
        account_emails.signup_waiting(user)
    return None


@transaction.atomic
def organization_remove_member(*, organization, user, by):
    """The user's time already logged stays with the organisation (it was billed to it). Their
    CCs go: a CC is always a colleague's ticket, which someone who left must not read on."""
    _require_staff(by)
    organization = _lock(organization)
    deleted, _ = OrganizationMember.objects.filter(organization=organization, user=user).delete()
    if deleted:
        TicketCC.objects.filter(user=user).delete()


@transaction.atomic
def organization_set_contract(*, organization, contract, month, by, now=None):
    """Give ``organization`` ``contract`` (None: no contract) from ``month`` on.

    A contract applies to whole months: set for the current month, it is the month's
    allowance from its first day (an upgrade on the 20th gives the whole month the new hours);
    months before keep theirs, and a past month cannot be changed. Returns the period written,
    or None when the organisation already holds that contract in that month.
    """
    _require_staff(by)
    now = now or timezone.now()
    organization = _lock(organization)
    if contract is not None and contract.service_id != organization.service_id:
        raise ValidationError(
            {
                "contract": f"{contract.name} is a contract of {contract.service}; "
                f"{organization} is a customer of {organization.service}."
            }
        )
    month = first_of(month)
    current = month_of(now, organization.service.timezone)
    if month < current:
        raise ValidationError(
            {"month": "A past month keeps the contract it had: choose this month or a later one."}
        )
    period = ContractPeriod.objects.filter(organization=organization, starts_on=month).first()
    in_force = contract_in_force(organization=organization, month=month)
    if period is None and _same(in_force, contract):
        return None
    if period is None:
        period = ContractPeriod.objects.create(
            organization=organization,
            starts_on=month,
            contract=contract,
            set_by=by,
            created_at=now,
            updated_at=now,
        )
    elif not _same(period.contract, contract):
        period.contract, period.set_by, period.updated_at = contract, by, now
        period.save(update_fields=["contract", "set_by", "updated_at"])
    else:
        return None
    if month == current:
        # A smaller allowance can put the month past a threshold without any new time.
        _check_thresholds(organization, month, now=now)
    return period


def _same(a, b):
    return (a.pk if a else None) == (b.pk if b else None)


# --- time ----------------------------------------------------------------------------------


def _valid_minutes(minutes):
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValidationError({"minutes": "Minutes must be a whole number."})
    if minutes <= 0:
        raise ValidationError(
            {
                "minutes": "Log a positive number of minutes. To correct an entry, void it and "
                "log the right time."
            }
        )
    if minutes > MAX_ENTRY_MINUTES:
        raise ValidationError(
            {"minutes": f"At most {MAX_ENTRY_MINUTES} minutes (24 hours) in one entry."}
        )
    return minutes


def _billed_organization(ticket):
    """The organisation the ticket's time counts against: its customer's, for its service."""
    membership = (
        OrganizationMember.objects.filter(user_id=ticket.customer_id)
        .select_related("organization__service")
        .first()
    )
    if membership is None or membership.organization.service_id != ticket.service_id:
        return None
    return membership.organization


def _open_since(now, tz):
    """Time is logged (or voided) for this month or last month only: older months are closed,
    so a report once read stays true."""
    return month_bounds(previous_month(month_of(now, tz)), tz)[0]


@dataclass(frozen=True)
class TimeEntryDraft:
    """A time entry that passed every check of ``time_entry_log``, not yet written."""

    ticket: object
    organization: Organization | None
    minutes: int
    note: str
    at: datetime
    tz: str


def time_entry_validate(*, ticket, by, minutes, note="", at=None, now=None):
    """Every check ``time_entry_log`` makes, without writing (the admin's form shows them as
    field errors). Raises PermissionDenied or ValidationError (keys: minutes, note, at)."""
    _require_staff(by, "Only staff may log time.")
    ticket = tickets_for_staff(user=by).select_related("service").filter(pk=ticket.pk).first()
    if ticket is None:
        raise PermissionDenied("You may not log time on this ticket (it is outside your tier).")
    minutes = _valid_minutes(minutes)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError({"note": f"Keep the note to {NOTE_MAX_LENGTH} characters at most."})
    now = now or timezone.now()
    at = now if at is None else at
    if not isinstance(at, datetime) or timezone.is_naive(at):
        raise ValidationError({"at": "The time worked must be a date and time with a zone."})
    if at > now:
        raise ValidationError({"at": "Work cannot be logged in the future."})
    organization = _billed_organization(ticket)
    tz = organization.service.timezone if organization else ticket.service.timezone
    opened = _open_since(now, tz)
    if at < opened:
        raise ValidationError(
            {
                "at": "Time can be logged for this month and last month only "
                f"(not before {opened:%Y-%m-%d %H:%M} UTC)."
            }
        )
    return TimeEntryDraft(
        ticket=ticket, organization=organization, minutes=minutes, note=note, at=at, tz=tz
    )


@transaction.atomic
def time_entry_log(*, ticket, by, minutes, note="", at=None):
    """Record ``minutes`` of ``by``'s work on ``ticket`` at ``at`` (default now).

    Only staff who may see the ticket log time on it. When the organisation's month reaches
    80 % or 100 % of its contract's hours, the usage emails are recorded in this transaction,
    once per month each; one entry crossing both records both.
    """
    now = timezone.now()
    draft = time_entry_validate(ticket=ticket, by=by, minutes=minutes, note=note, at=at, now=now)
    organization = draft.organization
    if organization is not None:
        organization = _lock(organization)
    entry = TimeEntry.objects.create(
        ticket=draft.ticket,
        staff=by,
        organization=organization,
        minutes=draft.minutes,
        worked_at=draft.at,
        note=draft.note,
        created_at=now,
    )
    if organization is not None:
        _check_thresholds(organization, month_of(draft.at, draft.tz), now=now)
    return entry


@transaction.atomic
def time_entry_void(*, entry, by, reason):
    """Take an entry out of every sum, keeping it on record with who voided it and why.

    Usage emails already sent for the month stay sent: "once per month" holds even when a
    correction takes the month back under a threshold and new time takes it over again.
    """
    _require_staff(by, "Only staff may void time entries.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the entry is voided."})
    if len(reason) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"reason": f"Keep the reason to {NOTE_MAX_LENGTH} characters at most."}
        )
    entry = (
        TimeEntry.objects.select_for_update(of=("self",))
        .select_related("organization__service", "ticket__service")
        .filter(pk=entry.pk, ticket__in=tickets_for_staff(user=by).values("pk"))
        .first()
    )
    if entry is None:
        raise PermissionDenied("You may not void time on this ticket (it is outside your tier).")
    if entry.voided_at is not None:
        raise ValidationError(f"This entry was already voided on {entry.voided_at:%Y-%m-%d}.")
    now = timezone.now()
    service = entry.organization.service if entry.organization else entry.ticket.service
    if entry.worked_at < _open_since(now, service.timezone):
        raise ValidationError("The entry's month is closed: only this month and last can change.")
    entry.voided_at, entry.voided_by, entry.void_reason = now, by, reason
    entry.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return entry


def _check_thresholds(organization, month, *, now):
    """Record each threshold the month has reached and not yet recorded, with its emails.

    Runs under the organisation's row lock, so the sum includes every committed entry and the
    alert rows are created by one writer at a time (their unique key guards the rest).
    """
    usage = organization_month_usage(organization=organization, month=month)
    if usage.percent is None:  # no contract, or a contract of 0 hours: nothing to warn of
        return
    for threshold in THRESHOLDS:
        if usage.percent < threshold:
            break
        alert, is_new = UsageAlert.objects.get_or_create(
            organization=organization,
            month=month,
            threshold=threshold,
            defaults={
                "contract": usage.contract,
                "used_minutes": usage.used_minutes,
                "included_minutes": usage.included_minutes,
                "created_at": now,
            },
        )
        if is_new:
            emails.usage_threshold_reached(alert=alert, usage=usage)
