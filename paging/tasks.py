from celery import shared_task

from . import oncall, services


@shared_task
def send_page(delivery_id):
    """Send one recorded page after its event committed; a no-op if it is sent or not due."""
    return services.delivery_send(delivery_id=delivery_id)


@shared_task
def send_pending_pages():
    """Beat sweep: on-call pages whose primary did not acknowledge in time go to the secondary
    (``oncall``); then send what the per-page task could not (broker down, crash) and the
    retries."""
    oncall.on_call_pages_escalate_due()
    return services.deliveries_send_due()
