"""Run a PostgreSQL fast path's portable twin on PostgreSQL, for the parity tests.

Each fast path chooses itself by asking its module's ``connection`` (or ``connections[…]``)
for ``vendor``. ``portable(module)`` hands that one module a view of the same connection that
answers any other vendor, so the portable statements run on the same PostgreSQL database in the
same transaction — Django's own code, which reads the real connection, is untouched.
"""

from contextlib import ExitStack, contextmanager
from unittest import mock

from django.db import connection as default_connection
from django.db import connections as default_connections


class PortableView:
    """The connection as a module sees it, but not PostgreSQL: its portable path runs."""

    vendor = "portable"

    def __init__(self, wrapped):
        self._wrapped = wrapped

    def __getattr__(self, name):
        return getattr(self._wrapped, name)


class PortableConnections:
    def __getitem__(self, alias):
        return PortableView(default_connections[alias])

    def __getattr__(self, name):
        return getattr(default_connections, name)


@contextmanager
def portable(*modules):
    """Within the block, each of ``modules`` takes its portable path."""
    with ExitStack() as stack:
        for module in modules:
            if hasattr(module, "connection"):
                stack.enter_context(
                    mock.patch.object(module, "connection", PortableView(default_connection))
                )
            if hasattr(module, "connections"):
                stack.enter_context(mock.patch.object(module, "connections", PortableConnections()))
        yield


def rows(model, *, exclude=("id",), normalise=None):
    """Every row of ``model`` as comparable tuples of its column values (``exclude`` left out),
    sorted, so two runs writing the same rows in another order or with other ids compare equal."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
    out = []
    for values in model.objects.order_by().values_list(*names):
        row = dict(zip(names, values, strict=True))
        if normalise:
            row = normalise(row)
        out.append(tuple(sorted((k, repr(v)) for k, v in row.items())))
    return sorted(out)
