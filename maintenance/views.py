"""Public maintenance pages: calendar, calendar feed, status page, subscriptions."""

import calendar as calendar_lib
from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from incidents.selectors import status_incidents
from sla.models import Service
from uptime.reports import status_bars

from . import ics as ics_feed
from . import services
from .models import MaintenanceWindow, Subscription
from .occurrences import zone
from .selectors import occurrences_for_services, viewer_timezone

CALENDAR_MONTHS = 3
STATUS_UPCOMING = timedelta(days=14)


def _present(occurrence, tz_name, now):
    tz = zone(tz_name)
    starts = occurrence.starts_at.astimezone(tz).replace(tzinfo=None)
    ends = occurrence.ends_at.astimezone(tz).replace(tzinfo=None)
    return {
        "occurrence": occurrence,
        "window": occurrence.window,
        "service": occurrence.window.service,
        "starts": starts,
        "ends": ends,
        "same_day": starts.date() == ends.date(),
        "timezone": tz_name,
        "in_progress": occurrence.in_progress(now),
        "cancelled": occurrence.cancelled,
        "moved": occurrence.moved,
    }


def calendar(request):
    """The coming three months of maintenance, as a list and a month grid, per service."""
    now = timezone.now()
    services_qs = Service.objects.order_by("name")
    all_services = list(services_qs)
    chosen = None
    if request.GET.get("service"):
        chosen = next((s for s in all_services if s.slug == request.GET["service"]), None)
        if chosen is None:
            raise Http404("no such service")
    shown = [chosen] if chosen else all_services
    viewer_tz = viewer_timezone(request.user)
    first = timezone.localdate(now, zone(viewer_tz or "UTC")).replace(day=1)
    last = first
    for _ in range(CALENDAR_MONTHS):
        last = (last + timedelta(days=32)).replace(day=1)
    occurrences = occurrences_for_services(
        services=shown, start=max(now - timedelta(days=1), _midnight(first)), end=_midnight(last)
    )
    items = [
        _present(o, viewer_tz or o.window.service.timezone, now)
        for o in occurrences
        if o.ends_at > now
    ]
    by_day = {}
    for item in items:
        if not item["cancelled"]:
            by_day.setdefault(item["starts"].date(), []).append(item)
    months = []
    month = first
    for _ in range(CALENDAR_MONTHS):
        weeks = calendar_lib.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month)
        months.append(
            {
                "first": month,
                "weeks": [
                    [
                        {
                            "day": day,
                            "in_month": day.month == month.month,
                            "items": by_day.get(day, []),
                        }
                        for day in week
                    ]
                    for week in weeks
                ],
            }
        )
        month = (month + timedelta(days=32)).replace(day=1)
    return render(
        request,
        "maintenance/calendar.html",
        {
            "services": all_services,
            "service_rows": [
                {
                    "service": service,
                    "count": sum(
                        1
                        for item in items
                        if item["service"].pk == service.pk and not item["cancelled"]
                    ),
                }
                for service in shown
            ],
            "chosen": chosen,
            "items": items,
            "months": months,
            "viewer_tz": viewer_tz,
            "weekdays": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        },
    )


def _midnight(day):
    # A day early: whatever the viewer's zone, the grid's first local day is covered.
    return datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=1)


@cache_control(public=True, max_age=300)
def ics(request, slug):
    """The service's maintenance calendar, RFC 5545, for calendar apps to subscribe to."""
    service = get_object_or_404(Service, slug=slug)
    windows = list(
        MaintenanceWindow.objects.filter(service=service, is_active=True).select_related("service")
    )
    body = ics_feed.service_calendar(
        service=service, windows=windows, now=timezone.now(), host=request.get_host().split(":")[0]
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{service.slug}-maintenance.ics"'
    return response


def _status_rows(now):
    services_all = list(Service.objects.order_by("name"))
    occurrences = [
        o
        for o in occurrences_for_services(
            services=services_all, start=now, end=now + STATUS_UPCOMING
        )
        if not o.cancelled
    ]
    rows = []
    for service in services_all:
        own = [o for o in occurrences if o.window.service_id == service.pk]
        current = [o for o in own if o.in_progress(now)]
        rows.append(
            {
                "service": service,
                "state": "maintenance" if current else "operational",
                "current": [_present(o, service.timezone, now) for o in current],
                "upcoming": [_present(o, service.timezone, now) for o in own if o.starts_at > now][
                    :3
                ],
            }
        )
    return rows


class SubscribeForm(forms.Form):
    email = forms.EmailField(label="Email address")
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), to_field_name="slug", empty_label=None
    )


@cache_control(no_cache=True, max_age=0)
def status(request):
    """Every service's state, now; the page reloads itself every minute (no staff action)."""
    now = timezone.now()
    rows = _status_rows(now)
    response = render(
        request,
        "maintenance/status.html",
        {
            "rows": rows,
            "services": [row["service"] for row in rows],
            "any_maintenance": any(row["current"] for row in rows),
            "form": SubscribeForm(),
            "now": now,
            # Open incidents with their public updates, published post-mortems (4 queries).
            "incidents_status": status_incidents(now=now),
            # 90 days a service, in a fixed number of queries (uptime.reports).
            "uptime_bars": status_bars(services=[row["service"] for row in rows], now=now),
        },
    )
    # Browsers reload on this header with no script: a window's start and end show up within
    # a minute without anyone touching the page.
    response["Refresh"] = "60"
    return response


@cache_control(no_cache=True, max_age=0)
def status_json(request):
    now = timezone.now()
    return JsonResponse(
        {
            "updated_at": now.isoformat(),
            "services": [
                {
                    "slug": row["service"].slug,
                    "name": row["service"].name,
                    "state": row["state"],
                    "maintenance": [
                        {
                            "window": item["window"].name,
                            "starts_at": item["occurrence"].starts_at.isoformat(),
                            "ends_at": item["occurrence"].ends_at.isoformat(),
                        }
                        for item in row["current"] + row["upcoming"]
                    ],
                }
                for row in _status_rows(now)
            ],
        }
    )


@require_POST
def subscribe(request):
    """Status page form: double opt-in by email."""
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address and choose a service.")
        return redirect("status")
    services.subscription_request(
        service=form.cleaned_data["service"], email=form.cleaned_data["email"]
    )
    messages.success(
        request,
        "Check your inbox: we sent a link to confirm the subscription (if it is not active yet).",
    )
    return redirect("status")


def subscription_confirm(request, token):
    try:
        subscription = services.subscription_confirm(token=token)
    except (signing.BadSignature, Subscription.DoesNotExist):
        return render(
            request, "maintenance/subscription_invalid.html", {"what": "confirmation"}, status=400
        )
    return render(
        request, "maintenance/subscription_confirmed.html", {"subscription": subscription}
    )


@csrf_exempt  # the signed token is the credential; RFC 8058 one-click POSTs carry no CSRF token
def unsubscribe(request, token):
    """GET shows a button (mail scanners follow links), POST unsubscribes — no login needed."""
    try:
        token_value = services.emails.unsubscribe_token_read(token)
    except signing.BadSignature:
        return render(
            request, "maintenance/subscription_invalid.html", {"what": "unsubscribe"}, status=400
        )
    subscription = Subscription.objects.select_related("service").filter(token=token_value).first()
    if subscription is None:
        return HttpResponseBadRequest("unknown subscription")
    if request.method == "POST":
        services.subscription_unsubscribe(token=token)
        return render(request, "maintenance/unsubscribed.html", {"subscription": subscription})
    return render(request, "maintenance/unsubscribe.html", {"subscription": subscription})
