"""The public status page and its JSON: services' state, incidents, maintenance, 90-day uptime;
the history of past incidents and maintenance, each incident's page, the Atom feed and a badge
per service. Only published incidents appear in any of them (``incidents.selectors``)."""

from datetime import timedelta

from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from accounts.selectors import request_timezone
from incidents.selectors import public_incident_get, public_incidents, status_incidents
from maintenance.forms import SubscribeForm
from maintenance.selectors import occurrence_display, occurrences_for_services
from sla.models import Service
from uptime.reports import status_bars

from . import feeds
from .api import CACHE_SECONDS
from .selectors import status_rows

HISTORY_PER_PAGE = 20
HISTORY_MAINTENANCE_DAYS = 90

# The 90-day bars are the page's dearest part (90 cells a service, each measured and titled)
# and change by the day; a visitor may see them a minute late, like the page itself.
BARS_CACHE_SECONDS = 60


def uptime_bars_html(*, services, now):
    key = "status:uptime-bars:" + ",".join(str(service.pk) for service in services)
    html = cache.get(key)
    if html is None:
        bars = status_bars(services=services, now=now)
        html = render_to_string("uptime/_status_bars.html", {"uptime_bars": bars})
        cache.set(key, html, BARS_CACHE_SECONDS)
    return html


@cache_control(no_cache=True, max_age=0)
def status(request):
    """Every service's state, now; the page reloads itself every minute (no staff action)."""
    now = timezone.now()
    # Open incidents with their public updates, published post-mortems (4 queries).
    incidents = status_incidents(now=now)
    zone_name, _ = request_timezone(request)
    rows = status_rows(now=now, incident_groups=incidents["services"], zone_name=zone_name)
    response = render(
        request,
        "status/status.html",
        {
            "rows": rows,
            "services": [row["service"] for row in rows],
            "any_maintenance": any(row["current"] for row in rows),
            "form": SubscribeForm(),
            "now": now,
            "incidents_status": incidents,
            # 90 days a service, in a fixed number of queries (uptime.reports).
            "uptime_bars_html": uptime_bars_html(
                services=[row["service"] for row in rows], now=now
            ),
        },
    )
    # Browsers reload on this header with no script: a window's start and end show up within
    # a minute without anyone touching the page.
    response["Refresh"] = "60"
    return response


@cache_control(no_cache=True, max_age=0)
def status_json(request):
    now = timezone.now()
    incidents = status_incidents(now=now)
    return JsonResponse(
        {
            "updated_at": now.isoformat(),
            "services": [
                {
                    "slug": row["service"].slug,
                    "name": row["service"].name,
                    "state": row["state"],
                    "status": str(row["status"]),
                    "incidents": [
                        {
                            "title": incident.title,
                            "outage": incident.outage,
                            "impact": incident.impact,
                            "status": str(incident.current_status),
                            "severity": incident.severity.code,
                            "started_at": incident.started_at.isoformat(),
                        }
                        for incident in row["open_incidents"]
                    ],
                    "maintenance": [
                        {
                            "window": item["window"].name,
                            "starts_at": item["occurrence"].starts_at.isoformat(),
                            "ends_at": item["occurrence"].ends_at.isoformat(),
                        }
                        for item in row["current"] + row["upcoming"]
                    ],
                }
                for row in status_rows(now=now, incident_groups=incidents["services"])
            ],
        }
    )


@require_safe
def history(request):
    """Past incidents (published and resolved), paged, and the maintenance completed in the
    last 90 days, paged on its own; ``?service=<slug>`` keeps one service's."""
    now = timezone.now()
    services = list(Service.objects.order_by("name"))
    chosen = next((s for s in services if s.slug == request.GET.get("service")), None)
    ids = [chosen.pk] if chosen else None
    incidents = Paginator(public_incidents(service_ids=ids, resolved=True), HISTORY_PER_PAGE)
    incidents_page = incidents.get_page(request.GET.get("page"))
    zone_name, _ = request_timezone(request)
    done = [
        occurrence_display(o, zone_name or o.window.service.timezone, now)
        for o in occurrences_for_services(
            services=[chosen] if chosen else None,
            start=now - timedelta(days=HISTORY_MAINTENANCE_DAYS),
            end=now,
        )
        if not o.cancelled and o.ends_at <= now
    ]
    done.reverse()
    maintenance_page = Paginator(done, HISTORY_PER_PAGE).get_page(request.GET.get("mpage"))
    return render(
        request,
        "status/history.html",
        {
            "services": services,
            "chosen": chosen,
            "incidents_page": incidents_page,
            "maintenance_page": maintenance_page,
            "maintenance_days": HISTORY_MAINTENANCE_DAYS,
        },
    )


@require_safe
def incident(request, incident_id):
    """One published incident: its public updates and its published post-mortem. A draft is
    a 404, as an incident that does not exist."""
    found = public_incident_get(incident_id=incident_id)
    if found is None:
        raise Http404("No such incident.")
    return render(request, "status/incident.html", {"incident": found})


@require_safe
def feed(request):
    body = cache.get("status:feed.atom")
    if body is None:
        body = feeds.atom_feed(timezone.now())
        cache.set("status:feed.atom", body, CACHE_SECONDS)
    response = HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response


BADGE_COLOURS = {
    "operational": "#146c43",
    "degraded_performance": "#8a5300",
    "partial_outage": "#a3400b",
    "major_outage": "#b02a37",
    "under_maintenance": "#0a58ca",
}


@require_safe
def badge(request, slug):
    """An SVG badge of the service's status, for READMEs and intranet pages (as shields.io
    draws them): the service's name, and its status in Statuspage's words."""
    service = get_object_or_404(Service, slug=slug)
    key = f"status:badge:{service.pk}"
    svg = cache.get(key)
    if svg is None:
        now = timezone.now()
        row = next(
            r
            for r in status_rows(now=now, incident_groups=status_incidents(now=now)["services"])
            if r["service"].pk == service.pk
        )
        status = row["status"]
        label, value = service.name, status.label.lower()
        # Verdana 11 px averages ~7 px a character: wide enough, as shields.io estimates.
        left, right = 10 + 7 * len(label), 10 + 7 * len(value)
        svg = render_to_string(
            "status/badge.svg",
            {
                "label": label,
                "value": value,
                "status": str(status),
                "colour": BADGE_COLOURS[str(status)],
                "left": left,
                "right": right,
                "width": left + right,
                "left_mid": left / 2,
                "right_mid": left + right / 2,
            },
        )
        cache.set(key, svg, CACHE_SECONDS)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    return response
