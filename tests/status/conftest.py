"""The maintenance tests' pinned clock serves the status page tests too."""

from tests.maintenance.conftest import clock  # noqa: F401
