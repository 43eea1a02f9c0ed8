"""The success-metrics dashboard, a staff page of the admin (read-only), and its CSV export.

The figures are aggregates over a whole service, not any one customer's tickets, so every
active staff member may read them whatever their tier — for the services they work (all, unless
limited to some); nobody can add, change or delete through the page (it is a proxy of Service
with only the list URL and the export).
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone

from core import periods
from core.admin import StaffPageAdmin

from . import charts, selectors
from .export import write_csv
from .forms import report_for_query
from .models import SuccessMetrics


@admin.register(SuccessMetrics)
class SuccessMetricsAdmin(StaffPageAdmin):
    def more_urls(self, admin_view):
        return [path("export.csv", admin_view(self.export_view), name=self.url_name("export"))]

    def _read(self, request):
        return report_for_query(
            request.GET, services=selectors.services(user=request.user), now=timezone.now()
        )

    def changelist_view(self, request, extra_context=None):
        form, report = self._read(request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Success metrics",
            "form": form,
            "kinds": [(value, label) for value, label in form.fields["period"].choices],
            "report": report,
        }
        if report:
            context.update(_page_context(report))
        return render(request, "metrics/dashboard.html", context, status=200 if report else 400)

    def export_view(self, request):
        form, report = self._read(request)
        if report is None:
            errors = "; ".join(
                f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
                for name, messages in form.errors.items()
            )
            return HttpResponse(
                f"Nothing exported: {errors}\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        period = report.period
        name = f"metrics-{report.service.slug}-{period.first:%Y%m%d}-{period.last:%Y%m%d}"
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        write_csv(response, report)
        return response


def _query(report, **changes):
    period = report.period
    params = {"service": report.service.slug, "period": period.kind}
    if period.kind == periods.CUSTOM:
        params.update(start=period.first.isoformat(), end=period.last.isoformat())
    else:
        params[period.kind] = period.value
    params.update(changes)
    return "?" + urlencode(params)


def _page_context(report):
    period = report.period
    context = {
        "weekly_chart": charts.weekly_chart(report.weeks),
        "compliance_chart": charts.compliance_chart(report.priorities),
        "export_url": reverse("admin:metrics_successmetrics_export") + _query(report),
    }
    if period.kind != periods.CUSTOM:
        before, after = period.shifted(-1), period.shifted(1)
        context["previous_url"] = _query(report, **{period.kind: before.value})
        context["next_url"] = _query(report, **{period.kind: after.value})
        context["previous_label"], context["next_label"] = before.label, after.label
    return context
