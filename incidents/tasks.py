from celery import shared_task

from . import reminders


@shared_task(name="incidents.tasks.remind_postmortems", ignore_result=True)
def remind_postmortems():
    """Beat, every minute: record the post-mortem reminders that have come due (owner at
    half-time and at the deadline, then the management chain), each once."""
    return reminders.postmortem_reminders_send_due()
