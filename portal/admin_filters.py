"""Changelist pieces that hold against hand-edited and hostile query strings.

A changelist's query string is typed by whoever holds the URL: every value a filter or the date
hierarchy reads must end as the unfiltered list or the admin's ``?e=1`` redirect, never as a
500 (tests/portal/test_admin_hostile_queries.py walks every changelist to prove it).
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList


class ChoiceListFilter(admin.SimpleListFilter):
    """A list filter whose value is one of its own lookups, or none at all.

    ``queryset`` then only ever sees a value the filter offered itself: a huge number, a
    superscript digit that ``int()`` refuses, a code no priority has, or text a column cannot
    hold shows the unfiltered list instead of reaching a query.
    """

    def value(self):
        value = super().value()
        if value in {str(key) for key, _ in self.lookup_choices}:
            return value
        return None


class BoundedDateHierarchyChangeList(ChangeList):
    """Django 5.2's date hierarchy answers ``?<field>__year=9999`` (the year after it is out
    of range) and a year beyond a C long (``OverflowError``) with a 500; here they are bad
    lookups like any other: the ``?e=1`` redirect. Django #37357 fixes it upstream; drop this
    once the Django we run has that fix."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            if self.date_hierarchy and f"{self.date_hierarchy}__year" in self.params:
                raise IncorrectLookupParameters(error) from error
            raise


class BoundedDateHierarchyMixin:
    """For a ModelAdmin with ``date_hierarchy``: see ``BoundedDateHierarchyChangeList``."""

    def get_changelist(self, request, **kwargs):
        return BoundedDateHierarchyChangeList
