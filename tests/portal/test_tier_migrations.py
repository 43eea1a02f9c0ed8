"""The test factories re-create the tier groups from every app's tier data migration."""

from pathlib import Path

from tests.factories import TIER_MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]


def test_every_tier_migration_is_replayed_by_the_factories():
    """A new app granting tiers permissions must be listed, or tests after a flush lose them."""
    # A tier migration reads the auth groups to create or grant to them, whatever its name.
    on_disk = {
        f"{path.parent.parent.name}.migrations.{path.stem}"
        for path in ROOT.glob("*/migrations/0*.py")
        if '"auth", "Group"' in path.read_text()
    }
    assert on_disk == set(TIER_MIGRATIONS)
