"""Small helpers the ticket admin pages share."""

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

# "#123" names exactly one ticket; a bare "123" also matches subjects and emails. Bounded so a
# pasted phone number cannot overflow a bigint.
NUMBER = re.compile(r"#?\s*([0-9]{1,18})")


def error_text(exc):
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc) or "Not allowed."


def staff_users():
    return get_user_model().objects.filter(is_active=True, is_staff=True)
