"""Which period reports a service's plan asks for, to whom, and when the next one is due."""

from django.db import models


class ReportSchedule(models.Model):
    """The plan's ``reports`` section of one service (written by ``load_plan`` only).

    ``next_report_at`` is the end of the next month to report, in UTC (local midnight of the
    month after, in the service's zone): the sweep reads only rows whose deadline has passed,
    through the partial index. A quarter is reported with the month that closes it.
    """

    service = models.OneToOneField(
        "sla.Service", on_delete=models.CASCADE, related_name="report_schedule"
    )
    monthly = models.BooleanField(default=True)
    quarterly = models.BooleanField(default=True)
    # Management roles (names of the escalation's chain) whose contacts get every report.
    roles = models.JSONField(default=list, blank=True)
    # Members of each organisation holding a contract get their organisation's version.
    contract_holders = models.BooleanField(default=False)
    next_report_at = models.DateTimeField(null=True, blank=True)
    # The first day of the last month reported (for staff: "last sent").
    last_month = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_report_at"],
                condition=models.Q(next_report_at__isnull=False),
                name="report_schedule_due",
            )
        ]

    def __str__(self):
        return f"reports of {self.service}"

    @property
    def kinds(self):
        return [
            kind for kind, on in (("monthly", self.monthly), ("quarterly", self.quarterly)) if on
        ]
