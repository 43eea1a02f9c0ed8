"""Value checks: each takes a raw value and returns the clean one or raises RuleError."""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .. import rules
from ..rules import RuleError

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def text(max_length=200, *, required=True):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise RuleError("expected text")
        if not isinstance(value, str):
            raise RuleError(f"expected text; put {value!r} in quotes if you mean it as text")
        value = value.strip()
        if required and not value:
            raise RuleError("must not be empty")
        if len(value) > max_length:
            raise RuleError(f"too long: at most {max_length} characters")
        return value

    return check


def boolean(value):
    if not isinstance(value, bool):
        raise RuleError(f"expected true or false, not {value!r}")
    return value


def integer(low=0, high=None):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleError(f"expected a whole number, not {value!r}")
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise RuleError(f"{value} is out of range: must be {bound}")
        return value

    return check


def number(low=Decimal(0), high=None, what="a number"):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise RuleError(f"expected {what}")
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise RuleError(f"{value!r} is not {what}") from None
        if not result.is_finite() or result < low or (high is not None and result > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise RuleError(f"{value!r} is out of range: {what} must be {bound}")
        return result

    return check


def duration(value):
    return rules.check_duration(value)


def plain_duration(value):
    return rules.check_duration(value, business_days=False)


def percent(value):
    return rules.parse_percent(value)


def email(value):
    value = text()(value)
    try:
        validate_email(value)
    except ValidationError:
        raise RuleError(f"{value!r} is not an email address") from None
    return value


def slug(value):
    value = text(50)(value)
    if not _SLUG.match(value):
        raise RuleError(
            f"{value!r} is not a slug: lowercase letters, digits and single hyphens, e.g. xsafe-erp"
        )
    return value


def nullable(check):
    def wrapped(value):
        return None if value is None else check(value)

    return wrapped
