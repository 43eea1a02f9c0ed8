from celery import shared_task

from . import fanout, reminders, runbooks


@shared_task(name="incidents.tasks.remind_postmortems", ignore_result=True)
def remind_postmortems():
    """Beat, every minute: record the post-mortem reminders that have come due (owner at
    half-time and at the deadline, then the management chain), each once."""
    return reminders.postmortem_reminders_send_due()


@shared_task(name="incidents.tasks.send_incident_update", ignore_result=True)
def send_incident_update(update_id):
    """After a public update commits: record its emails to the service's subscribers, a
    batch per transaction; a no-op when they are recorded already or another worker is on it."""
    return fanout.update_emails_record(update_id=update_id)


@shared_task(name="incidents.tasks.send_incident_updates", ignore_result=True)
def send_incident_updates():
    """Beat, every minute: finish the emails of every public update not fully recorded (the
    enqueue was lost, a worker died half-way), each subscriber's once."""
    return fanout.update_emails_send_pending()


@shared_task(name="incidents.tasks.remind_incident_deadlines", ignore_result=True)
def remind_incident_deadlines():
    """Beat, every minute: record the runbook deadline reminders that have come due (owner at
    half-time and at the deadline, then the management chain), each once."""
    return runbooks.deadline_reminders_send_due()
