"""Maintenance windows, their occurrences and notices (built out by the maintenance issue)."""
