from celery import shared_task

from . import services


@shared_task
def send_page(delivery_id):
    """Send one recorded page after its event committed; a no-op if it is sent or not due."""
    return services.delivery_send(delivery_id=delivery_id)


@shared_task
def send_pending_pages():
    """Beat sweep: send what the per-page task could not (broker down, crash) and the retries."""
    return services.deliveries_send_due()
