"""The dashboard's page in the admin, and its rollup: per-day sums of the tickets' figures.

``SuccessMetrics`` is a proxy of ``sla.Service`` so the dashboard has a place in the admin (its
index entry and URL) the way every other staff page has, without a table.

The rollup (docs/performance.md, "Success metrics dashboard") holds, per service, local day
and priority, the additive quantities of the report — counts and summed durations, nothing
that cannot be added up — so a year is ~1,500 rows to sum instead of half a million tickets.
It is never stale when read: database triggers on the ticket table (migration 0002) append
the UTC day of every ticket write that can change a figure to ``StaleDay``, and the report
recomputes those days from the tickets before it reads (``services.rollup_refresh``).
"""

from django.db import models

from sla.models import Service


class SuccessMetrics(Service):
    class Meta:
        proxy = True
        verbose_name = "success metrics dashboard"
        verbose_name_plural = "success metrics dashboard"


class OpenedDay(models.Model):
    """The tickets of a service and priority opened on one local day (the service's zone),
    and how their timers went — except what depends on the moment of reading (a timer past
    its deadline at ``now``): that is counted live from the few tickets due after ``now``."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # the local date of created_at
    priority_id = models.BigIntegerField()  # not a foreign key: retired priorities stay counted
    opened = models.IntegerField()
    responded = models.IntegerField()
    response_time = models.DurationField(null=True)
    responses_met = models.IntegerField()
    responses_missed = models.IntegerField()
    # Response timers not stopped (met is null) with a deadline: overdue or still running.
    responses_pending = models.IntegerField()
    resolutions_met = models.IntegerField()
    resolutions_missed = models.IntegerField()
    # Resolution timers not stopped, with a deadline; and among them the ones not paused.
    resolutions_pending = models.IntegerField()
    resolutions_pending_unpaused = models.IntegerField()
    resolved_since = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "day", "priority_id"], name="metrics_opened_day_unique"
            )
        ]

    def __str__(self):
        return f"{self.opened} opened on {self.day} (service {self.service_id})"


class ResolvedDay(models.Model):
    """The tickets of a service and priority resolved on one local day: their time to
    resolve and their ratings."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()  # the local date of resolved_at
    priority_id = models.BigIntegerField()
    resolved = models.IntegerField()
    resolve_time = models.DurationField(null=True)
    rated = models.IntegerField()
    rating_sum = models.IntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "day", "priority_id"], name="metrics_resolved_day_unique"
            )
        ]

    def __str__(self):
        return f"{self.resolved} resolved on {self.day} (service {self.service_id})"


class RollupState(models.Model):
    """A service whose rollup is built, and in which zone its days are local: a service
    without a row, or whose zone changed since, is rebuilt whole before it is read."""

    service = models.OneToOneField(Service, on_delete=models.CASCADE, related_name="+")
    timezone = models.CharField(max_length=64)
    refreshed_at = models.DateTimeField()

    def __str__(self):
        return f"rollup of service {self.service_id} in {self.timezone}"


class StaleDay(models.Model):
    """A UTC day of a service whose tickets changed since the rollup read them (their
    ``created_at`` or ``resolved_at`` fell on it, before or after the change).

    Written only by the triggers on the ticket table, appended without a unique key so that
    concurrent ticket writes never wait on each other here; the refresh deletes the rows it
    read. A trigger skips a (service, day) its own transaction already listed (on
    PostgreSQL; one listed by another transaction may be a refresh's to take before this one
    commits), so the table stays about as small as the number of writes since the last
    refresh (the beat task ``metrics.tasks.refresh_metrics_rollups`` every five minutes).
    """

    service_id = models.BigIntegerField()  # no foreign key: a trigger writes it
    day = models.DateField()  # UTC

    class Meta:
        indexes = [models.Index(fields=["service_id", "day"], name="metrics_stale_day")]

    def __str__(self):
        return f"service {self.service_id}, {self.day} (UTC)"
