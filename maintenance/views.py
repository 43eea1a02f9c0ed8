"""Public maintenance pages: calendar, calendar feed, status page, subscriptions."""

import calendar as calendar_lib
from datetime import UTC, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import request_timezone
from core.periods import add_months, next_month
from core.zones import zone
from sla.models import Service

from . import emails, selectors
from . import ics as ics_feed
from . import subscriptions as subscription_services
from .forms import SubscribeForm, TopicsForm
from .models import MaintenanceWindow, Subscription
from .selectors import occurrence_display, occurrences_for_services

CALENDAR_MONTHS = 3


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
    viewer_tz, _ = request_timezone(request)
    first = timezone.localdate(now, zone(viewer_tz or "UTC")).replace(day=1)
    last = add_months(first, CALENDAR_MONTHS)
    occurrences = occurrences_for_services(
        services=shown, start=max(now - timedelta(days=1), _midnight(first)), end=_midnight(last)
    )
    items = [
        occurrence_display(o, viewer_tz or o.window.service.timezone, now)
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
        month = next_month(month)
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


@require_POST
def subscribe(request):
    """Status page form: double opt-in by email."""
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid email address and choose a service.")
        return redirect("status")
    subscription_services.subscription_request(
        service=form.cleaned_data["service"], email=form.cleaned_data["email"], **form.topics()
    )
    messages.success(
        request,
        "Check your inbox: we sent a link to confirm the subscription (if it is not active yet).",
    )
    return redirect("status")


def subscription_confirm(request, token):
    try:
        subscription = subscription_services.subscription_confirm(token=token)
    except (signing.BadSignature, Subscription.DoesNotExist):
        return render(
            request, "maintenance/subscription_invalid.html", {"what": "confirmation"}, status=400
        )
    except subscription_services.StaleConfirmation:
        # Unsubscribed since the link was sent: the link is spent, whatever its age.
        return render(
            request,
            "maintenance/subscription_invalid.html",
            {"what": "confirmation", "stale": True},
            status=400,
        )
    return render(
        request, "maintenance/subscription_confirmed.html", {"subscription": subscription}
    )


@csrf_exempt  # the signed token is the credential; RFC 8058 one-click POSTs carry no CSRF token
def unsubscribe(request, token):
    """GET shows a button (mail scanners follow links), POST unsubscribes — no login needed."""
    try:
        token_value = emails.unsubscribe_token_read(token)
    except signing.BadSignature:
        return render(
            request, "maintenance/subscription_invalid.html", {"what": "unsubscribe"}, status=400
        )
    subscription = Subscription.objects.select_related("service").filter(token=token_value).first()
    if subscription is None:
        return HttpResponseBadRequest("unknown subscription")
    if request.method == "POST" and "choose" in request.POST:
        # The page's "what to hear" form; an RFC 8058 one-click POST never carries "choose".
        form = TopicsForm(request.POST)
        form.is_valid()  # two check boxes: always valid
        subscription = subscription_services.subscription_choose_by_token(
            token=token, **form.cleaned_data
        )
        if subscription.unsubscribed_at is not None:
            return render(request, "maintenance/unsubscribed.html", {"subscription": subscription})
        words = subscription_services.topics_words(
            maintenance=subscription.maintenance, incidents=subscription.incidents
        )
        messages.success(request, f"Saved: {subscription.address} will get {words}.")
        return redirect(request.path)
    if request.method == "POST":
        subscription_services.subscription_unsubscribe(token=token)
        return render(request, "maintenance/unsubscribed.html", {"subscription": subscription})
    return render(
        request,
        "maintenance/unsubscribe.html",
        {
            "subscription": subscription,
            "form": TopicsForm(
                initial={
                    "maintenance": subscription.maintenance,
                    "incidents": subscription.incidents,
                }
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def subscriptions(request):
    """A customer chooses, per service of theirs, whether they hear of its maintenance, its
    incidents, both or nothing by email."""
    rows = selectors.customer_subscriptions(user=request.user)
    if request.method == "POST":
        for service, _ in rows:
            form = TopicsForm(request.POST, prefix=service.slug)
            form.is_valid()  # two check boxes: always valid
            subscription_services.subscription_choose(
                service=service, user=request.user, **form.cleaned_data
            )
        messages.success(request, "Your email choices are saved.")
        return redirect("maintenance:subscriptions")
    forms = [
        (
            service,
            TopicsForm(
                prefix=service.slug,
                initial={
                    "maintenance": bool(sub and sub.active and sub.maintenance),
                    "incidents": bool(sub and sub.active and sub.incidents),
                }
                if sub is not None
                else {"maintenance": True, "incidents": True},
            ),
        )
        for service, sub in rows
    ]
    return render(request, "maintenance/subscriptions.html", {"forms": forms})
