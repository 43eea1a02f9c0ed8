"""Beat jobs of routine tasks: thin, each calls one sweep; safe twice, concurrently, late."""

from celery import shared_task

from .reminders import routine_items_remind_overdue
from .services import routine_items_create


@shared_task(name="routine.tasks.create_routine_items", ignore_result=True)
def create_routine_items():
    """Create the current period's checklist item of every task in force (and any period
    missed in the last month), each once."""
    return routine_items_create()


@shared_task(name="routine.tasks.remind_overdue_routine_items", ignore_result=True)
def remind_overdue_routine_items():
    """Email each overdue item's owner tier, once per item and person."""
    return routine_items_remind_overdue()
