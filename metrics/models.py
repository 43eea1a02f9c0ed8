"""Success metrics keep no data of their own: they are aggregates over tickets and incidents.

``SuccessMetrics`` is a proxy of ``sla.Service`` so the dashboard has a place in the admin (its
index entry and URL) the way every other staff page has, without a table.
"""

from sla.models import Service


class SuccessMetrics(Service):
    class Meta:
        proxy = True
        verbose_name = "success metrics dashboard"
        verbose_name_plural = "success metrics dashboard"
