"""Helpers the contracts admin pages share."""

from django.core.exceptions import ValidationError


def error_text(exc):
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "Not allowed."


def add_errors(form, exc, fields=None):
    """Show a service's ValidationError / PermissionDenied on ``form``: keyed messages on the
    matching fields (``fields`` renames a service key to a form field), the rest on top."""
    fields = fields or {}
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for key, errors in exc.error_dict.items():
            name = fields.get(key, key)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error_text(exc))


def usage_text(usage):
    if usage is None or usage.contract is None:
        return "—"
    percent = "—" if usage.percent is None else f"{usage.percent} %"
    return f"{usage.used_hours} of {usage.included_hours} h ({percent})"
