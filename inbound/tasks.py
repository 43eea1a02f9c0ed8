from celery import shared_task

from . import services


@shared_task(name="inbound.tasks.process_pending_mail", ignore_result=True)
def process_pending_mail():
    """Beat, every minute: act on stored messages left pending (a crash between storing and
    acting, or a failed attempt), each once."""
    return dict(services.inbound_process_pending())
