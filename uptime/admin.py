"""The monthly uptime report, a staff page of the admin (read-only, every staff member).

Availability is not tier-scoped data: any active staff member may read the report of the
services they work (all, unless limited to some), and nobody can add, change or delete through
it (it is a proxy of Service with only the list URL).
"""

from django.contrib import admin
from django.shortcuts import render
from django.utils import timezone

from core.admin import StaffPageAdmin
from core.periods import next_month, parse_month, previous_month
from sla.models import Service
from sla.selectors import limit_to_staff_services

from .models import UptimeReport
from .reports import monthly_report


@admin.register(UptimeReport)
class UptimeReportAdmin(StaffPageAdmin):
    def changelist_view(self, request, extra_context=None):
        now = timezone.now()
        this_month = now.date().replace(day=1)
        error = ""
        first = this_month
        if request.GET.get("month"):
            try:
                first = parse_month(request.GET["month"])
            except ValueError as exc:
                error = str(exc)
        report = (
            []
            if error
            else monthly_report(
                services=limit_to_staff_services(
                    Service.objects.order_by("name"), user=request.user, field="pk"
                ),
                first=first,
                now=now,
            )
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Monthly uptime — {first:%B %Y}",
            "opts": self.model._meta,
            "month": first,
            "month_value": f"{first:%Y-%m}",
            "previous": f"{previous_month(first):%Y-%m}",
            "next": f"{next_month(first):%Y-%m}",
            "this_month": f"{this_month:%Y-%m}",
            "error": error,
            "entered": request.GET.get("month", ""),
            "report": report,
        }
        return render(request, "uptime/admin_report.html", context, status=400 if error else 200)
