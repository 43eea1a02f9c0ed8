"""Moved to ``core.admin``. Kept importable here only while knowledge/admin.py (in progress)
still names this module. TODO(core): remove before the session ends."""

from core.admin import (  # noqa: F401
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    StaffPageAdmin,
    SuperuserRecordsAdmin,
    is_active_staff,
    is_active_superuser,
)
