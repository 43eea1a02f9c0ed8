"""Staff work the routine checklist here; the admin displays and delegates to the services.

Scoped like tickets (``selectors.items_for_staff``): a tier-N member sees items owned by tiers
up to N, superusers all; an item out of scope "doesn't exist" in every view. Items are made by
beat, never added by hand.
"""

from . import (
    items,  # noqa: F401 (registers the model admin)
    releases,  # noqa: F401 (registers the release admin)
    tasks,  # noqa: F401 (registers the task definitions' admin)
)
