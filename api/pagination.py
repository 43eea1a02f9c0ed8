"""Cursor pagination: newest first by id, an opaque ``cursor`` per page.

Ordered by the primary key (unique, so no row is skipped or repeated as rows are added
between pages), which every scope can read through an index whatever the table's size.
"""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
