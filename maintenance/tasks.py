from celery import shared_task

from . import notices, paging_events


@shared_task
def send_maintenance_notices():
    """Beat, every minute: record every maintenance email that has come due (lead-time
    notices, updates, cancellations, quarterly calendars), each once; the outbox sends them.
    Also the pages of occurrences that started or ended (``paging_events``)."""
    result = notices.notices_send_due()
    paging_events.maintenance_pages_record_due()
    return result
