"""Beat job of the metrics rollup: thin, calls one service; safe twice, concurrently, late."""

from celery import shared_task

from .services import rollups_refresh_outdated


@shared_task(name="metrics.tasks.refresh_metrics_rollups", ignore_result=True)
def refresh_metrics_rollups():
    """Bring the per-day rollups up to date with the tickets written since the last read."""
    return rollups_refresh_outdated()
