"""Uptime keeps no data of its own: it is computed from incidents and maintenance windows.

``UptimeReport`` is a proxy of ``sla.Service`` so the monthly report has a place in the admin
(its index entry and URL) the way every other staff page has, without a table.
"""

from sla.models import Service


class UptimeReport(Service):
    class Meta:
        proxy = True
        verbose_name = "monthly uptime report"
        verbose_name_plural = "monthly uptime reports"
