from dataclasses import asdict

from celery import shared_task

from . import imap, services


@shared_task(name="inbound.tasks.process_pending_mail", ignore_result=True)
def process_pending_mail():
    """Beat, every minute: act on stored messages left pending (a crash between storing and
    acting, or a failed attempt), each once."""
    return dict(services.inbound_process_pending())


@shared_task(name="inbound.tasks.fetch_mail", ignore_result=True)
def fetch_mail():
    """Beat, every minute: new mail in ``IMAP_URL``'s folder, each message acted on once (a
    second worker polling at the same moment returns at once). A no-op when it is unset."""
    result = imap.imap_fetch_mail()
    return None if result is None else asdict(result)
