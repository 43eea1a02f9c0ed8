"""The plan's ``reports`` section: applied to a ``ReportSchedule``, exported back."""

from core import periods
from core.zones import local_date
from sla.plan.apply import sync

from .models import ReportSchedule


def reports_apply_plan(*, service, plan, now, report):
    """Make the service's schedule match ``plan.reports``; none in the plan, no schedule.

    A new schedule's first report is the month the plan was loaded in, sent when it ends.
    Reloading keeps the deadline, so a reload never re-sends or skips a month.
    """
    spec = plan.reports
    if spec is None:
        schedule = ReportSchedule.objects.filter(service=service).first()
        if schedule is not None:
            schedule.delete()
            report.retired += 1
        return
    values = {
        "monthly": "monthly" in spec.every,
        "quarterly": "quarterly" in spec.every,
        "roles": list(spec.to),
        "contract_holders": spec.contract_holders,
    }
    schedule = ReportSchedule.objects.filter(service=service).first()
    if schedule is None:
        tz = service.timezone
        month = periods.containing(periods.MONTH, local_date(now, tz), tz)
        ReportSchedule.objects.create(service=service, next_report_at=month.end, **values)
        report.created += 1
    else:
        sync(schedule, values, report)


def reports_export_plan(*, service):
    schedule = ReportSchedule.objects.filter(service=service).first()
    if schedule is None:
        return {}
    return {
        "reports": {
            "every": schedule.kinds,
            "to": list(schedule.roles),
            "contract_holders": schedule.contract_holders,
        }
    }
