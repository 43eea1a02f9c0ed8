from celery import shared_task

from . import services


@shared_task
def send_password_reset(email):
    """Record the reset email for an address someone asked about (none if it has no account);
    the outbox then delivers it."""
    services.user_password_reset(email=email)
