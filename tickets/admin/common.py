"""Small helpers the ticket admin pages share."""

import re

from django.contrib.auth import get_user_model

# "#123" names exactly one ticket; a bare "123" also matches subjects and emails. Bounded so a
# pasted phone number cannot overflow a bigint.
NUMBER = re.compile(r"#?\s*([0-9]{1,18})")


def staff_users():
    return get_user_model().objects.filter(is_active=True, is_staff=True)
