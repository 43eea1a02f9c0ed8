from celery import shared_task

from . import notices


@shared_task
def send_maintenance_notices():
    """Beat, every minute: record every maintenance email that has come due (lead-time
    notices, updates, cancellations, quarterly calendars), each once; the outbox sends them."""
    return notices.notices_send_due()
