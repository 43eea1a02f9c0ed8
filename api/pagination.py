"""Cursor pagination: an opaque ``cursor`` per page, ``page_size`` 1–100.

Lists are ordered by the primary key (unique, so no row is skipped or repeated as rows are
added between pages), which every scope can read through an index whatever the table's size.
A bad ``page_size`` is refused (400) rather than silently replaced, as the document says.
"""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination


class StrictCursorPagination(CursorPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {"page_size": [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    {"minimum": 1, "maximum": self.max_page_size, "default": self.page_size}
                )
        return parameters


class IdCursorPagination(StrictCursorPagination):
    """Newest first (the admin's ticket list)."""

    ordering = "-id"


class ActivityCursorPagination(StrictCursorPagination):
    """Latest activity first: the portal's "My tickets" order (a customer's few tickets,
    read through ``ticket_customer_access`` and sorted)."""

    ordering = ("-updated_at", "-id")


class OldestFirstPagination(StrictCursorPagination):
    """A conversation, oldest first."""

    ordering = "id"
    page_size = 50
