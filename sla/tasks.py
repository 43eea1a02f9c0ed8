"""Periodic SLA work, run by Celery beat.

The contract (CONTRACTS.md) fixes the task's name, ``sla.tasks.escalate_lapsed_tickets``, but
the sweep acts on tickets, and the tickets app depends on sla, not the other way round. So the
task is a thin shim that imports the sweep when it runs: no module-level import of tickets.
"""

from celery import shared_task


@shared_task(name="sla.tasks.escalate_lapsed_tickets", ignore_result=True)
def escalate_lapsed_tickets():
    """Warn at-risk tickets and escalate lapsed ones; safe to run twice, concurrently, late."""
    from tickets.escalation import escalate_lapsed_tickets as sweep

    return sweep()
