"""The public status page and its JSON: services' state, incidents, maintenance, 90-day uptime."""

from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.cache import cache_control

from incidents.selectors import status_incidents
from maintenance.forms import SubscribeForm
from uptime.reports import status_bars

from .selectors import status_rows

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
    rows = status_rows(now=now, incident_groups=incidents["services"])
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
                    "incidents": [
                        {
                            "title": incident.title,
                            "outage": incident.outage,
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
