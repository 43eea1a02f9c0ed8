from celery import shared_task
from django.utils import timezone

from .services import reports_send_due


@shared_task(name="reports.tasks.send_period_reports", ignore_result=True)
def send_period_reports():
    """Monthly and quarterly reports whose period has ended; safe to run at any moment."""
    reports_send_due(now=timezone.now())
