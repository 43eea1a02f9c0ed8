from celery import shared_task

from . import delivery


@shared_task
def send_notification(notification_id):
    """Deliver one notification after its event committed; a no-op if it is already sent."""
    return delivery.notification_send(notification_id=notification_id)


@shared_task
def send_pending_notifications():
    """Beat sweep: deliver what the per-notification task could not (broker down, crash)."""
    return delivery.notifications_send_due()
