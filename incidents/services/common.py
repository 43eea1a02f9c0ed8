"""What every incident service does first: check the actor is staff and lock the incident row.

Locking the incident first, in every write, is what makes two staff acting on one incident at
once take turns (each sees the other's result), and what keeps the reminder sweep — which skips
locked rows — from reminding about a post-mortem being completed.
"""

from django.core.exceptions import PermissionDenied, ValidationError

from ..models import Incident, Postmortem


def lock_incident(incident):
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("service", "severity__calendar")
        .get(pk=incident.pk)
    )


def require_staff(user, *, field=None):
    if user is None or not (user.is_active and user.is_staff):
        if field:
            raise ValidationError({field: "Choose an active staff member."})
        raise PermissionDenied("Only staff work incidents.")


def lock_postmortem(incident):
    """The incident and its post-mortem (None when not started), both locked."""
    incident = lock_incident(incident)
    return incident, Postmortem.objects.select_for_update().filter(incident=incident).first()


def one_line(value, *, field, limit, missing, name):
    """``value`` on one line (runs of spaces and line breaks made one space), or a
    ValidationError on ``field``: ``missing`` when empty, a length message past ``limit``."""
    text = " ".join((value or "").split())
    if not text:
        raise ValidationError({field: missing})
    if len(text) > limit:
        raise ValidationError({field: f"Keep the {name} to at most {limit} characters."})
    return text
