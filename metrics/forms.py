"""The dashboard's query string: which service, which period."""

from zoneinfo import ZoneInfo

from django import forms

from core import periods

from .report import build_report

# A custom range is capped so the weekly chart stays legible and the aggregates bounded.
MAX_CUSTOM_DAYS = 731

PERIOD_CHOICES = [
    (periods.MONTH, "Month"),
    (periods.QUARTER, "Quarter"),
    (periods.YEAR, "Year"),
    (periods.CUSTOM, "Custom range"),
]


class DashboardForm(forms.Form):
    """Bound to ``request.GET``; every field may be left out (this month of the first service).

    ``services`` is the picker's list, read once by the caller, so choosing a service costs no
    query of its own.
    """

    service = forms.ChoiceField(required=False)
    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False)
    month = forms.CharField(required=False, max_length=7, help_text="YYYY-MM")
    quarter = forms.CharField(required=False, max_length=7, help_text="YYYY-Qn")
    year = forms.CharField(required=False, max_length=4, help_text="YYYY")
    start = forms.DateField(required=False, label="From", help_text="First day, YYYY-MM-DD")
    end = forms.DateField(required=False, label="To", help_text="Last day, inclusive")

    def __init__(self, data, *, services, today):
        super().__init__(data)
        self.services = {service.slug: service for service in services}
        self.fields["service"].choices = [(s.slug, s.name) for s in services]
        self.today = today  # callable: service → the local date there now

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not self.services:
            raise forms.ValidationError("There is no service yet: load a plan first.")
        slug = data.get("service") or next(iter(self.services))
        service = self.services[slug]
        kind = data.get("period") or periods.MONTH
        tz = service.timezone
        try:
            if kind == periods.CUSTOM:
                if not (data.get("start") and data.get("end")):
                    raise ValueError("a custom range needs both a first and a last day")
                period = periods.custom(data["start"], data["end"], tz, max_days=MAX_CUSTOM_DAYS)
            elif data.get(kind):
                period = periods.containing(kind, periods.parse(kind, data[kind]), tz)
            else:
                period = periods.containing(kind, self.today(service), tz)
        except ValueError as exc:
            field = kind if kind in self.fields else None
            if kind == periods.CUSTOM:
                field = "end" if data.get("start") and data.get("end") else None
            self.add_error(field, str(exc))
            return data
        data["service_obj"], data["period_obj"] = service, period
        return data


def report_for_query(data, *, services, now):
    """``(form, report)``: the form bound to ``data`` (a query string) and, when it is valid,
    the report of its service and period; ``report`` is None when the form refused ``data``.

    The one way from a query string to figures: the page, its CSV export and the REST API's
    metrics all read through it, so they parse and compute alike. ``services`` are the ones
    the reader may choose from (``selectors.services``).
    """
    form = DashboardForm(
        data,
        services=services,
        today=lambda service: now.astimezone(ZoneInfo(service.timezone)).date(),
    )
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    return form, build_report(service=data["service_obj"], period=data["period_obj"], now=now)
