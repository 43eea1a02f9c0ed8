"""A paginator for very large tables: the planner's estimate instead of an exact count.

Counting a million rows for the "page 1 of N" links costs more than rendering the page. Above
``EXACT_COUNT_LIMIT`` rows (by the planner's estimate for the very query being paged) the
estimate is shown; below it, and on databases without a cheap estimate, the exact count.
"""

import json

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_COUNT_LIMIT = 20_000


def planner_row_estimate(queryset):
    """PostgreSQL's estimate of the rows ``queryset`` returns, or None elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except EmptyResultSet:
        # Django knows without asking that nothing matches (e.g. an id beyond the column's
        # range, typed into the changelist's URL): there is no SQL to explain.
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self):
        estimate = planner_row_estimate(self.object_list)
        if estimate is not None and estimate > EXACT_COUNT_LIMIT:
            return estimate
        return self.object_list.count()
