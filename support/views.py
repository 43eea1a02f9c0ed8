"""The customer's pages built on every app below: the portal home (``/``: the customer's
dashboard when signed in) and ``/support/<service-slug>/`` (addresses, phone lines with their
hours, tiers, the SLA table, maintenance windows, and the signed-in customer's own contract and
hours this month)."""

import re
from datetime import timedelta

from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from contracts.selectors import contract_usage_for_customer
from maintenance.selectors import policies_by_service, policy_leads, window_occurrences
from sla.models import Service
from sla.selectors import calendar_hours_text, duration_text, service_support_sheet
from tickets.selectors import customer_dashboard

from .preloads import in_an_organisation

UPCOMING_DAYS = 90
UPCOMING_SHOWN = 6
_DAYS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
_ORDINALS = {"1": "first", "2": "second", "3": "third", "4": "fourth", "-1": "last"}
_BYDAY = re.compile(r"^([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)$")


def schedule_text(window):
    """``every Sunday``, ``the first Monday of each month``, ``on 2027-03-07``; the RRULE
    itself when it is something else."""
    if window.date:
        return f"on {window.date:%a %-d %b %Y}"
    parts = dict(part.split("=", 1) for part in window.rrule.split(";") if "=" in part)
    days = [_BYDAY.match(day) for day in parts.get("BYDAY", "").split(",") if day]
    if parts.get("FREQ") == "WEEKLY" and days and all(m and not m[1] for m in days):
        return "every " + " and ".join(_DAYS[m[2]] for m in days)
    if parts.get("FREQ") == "MONTHLY" and len(days) == 1 and days[0] and days[0][1]:
        ordinal = _ORDINALS.get(days[0][1].lstrip("+"))
        if ordinal:
            return f"the {ordinal} {_DAYS[days[0][2]]} of each month"
    if parts.get("FREQ") == "DAILY":
        return "every day"
    return window.rrule


def home(request):
    context = {}
    if request.user.is_authenticated:
        context = customer_dashboard(user=request.user)
        # This month's support hours of the customer's own organisation (None: nothing shown);
        # no organisation, no query (the membership came with the user).
        context["support_usage"] = (
            contract_usage_for_customer(user=request.user)
            if in_an_organisation(request.user)
            else None
        )
    return render(request, "portal/home.html", context)


def service_support(request, slug):
    try:
        sheet = service_support_sheet(slug=slug)
    except Service.DoesNotExist:
        raise Http404("No such service.") from None
    service, now = sheet.service, timezone.now()
    occurrences = [
        occurrence
        for occurrence in window_occurrences(
            service=service, start=now, end=now + timedelta(days=UPCOMING_DAYS)
        )
        if not occurrence.cancelled
    ][:UPCOMING_SHOWN]
    policy = policies_by_service([service.pk]).get(service.pk)
    usage = contract_usage_for_customer(user=request.user, now=now)
    if usage is not None and usage.organization.service_id != service.pk:
        usage = None  # an organisation's contract is with one service: not this one's
    rows = [
        {
            "priority": priority,
            "response": duration_text(priority.response),
            "resolution": duration_text(priority.resolution) if priority.resolution else "",
            "hours": calendar_hours_text(priority.calendar),
            "uptime": f"{priority.uptime.normalize():f}" if priority.uptime is not None else "",
        }
        for priority in sheet.priorities
    ]
    return render(
        request,
        "support/service.html",
        {
            "sheet": sheet,
            "service": service,
            "rows": rows,
            "occurrences": occurrences,
            "windows": [
                (window, schedule_text(window))
                for window in service.maintenance_windows.filter(is_active=True).order_by(
                    "position"
                )
            ],
            "notices": [duration_text(lead) for lead, _ in policy_leads(policy)],
            "channels": list(policy.channels) if policy else [],
            "usage": usage,
        },
    )
