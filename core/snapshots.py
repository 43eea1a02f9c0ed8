"""Several reads that must agree: one snapshot of the database for all of them."""

from contextlib import contextmanager

from django.db import OperationalError, connection, transaction

# PostgreSQL's SQLSTATE for "could not serialize access": a REPEATABLE READ transaction wrote a
# row that another transaction changed after its snapshot was taken. Nothing was done; running
# the whole transaction again is the cure.
_SERIALIZATION_FAILURE = "40001"


@contextmanager
def one_snapshot():
    """Every statement inside reads the same snapshot, and writes inside commit together.

    On PostgreSQL, a transaction opened here runs at REPEATABLE READ (READ COMMITTED, the
    default, takes a new snapshot per statement: a row committed between two reads is seen by
    the second only). Inside a caller's transaction the caller's isolation stands, and no
    savepoint is added. SQLite's transactions read one snapshot already.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic(savepoint=False):
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def run_in_one_snapshot(work, *, attempts=5):
    """``work()`` in ``one_snapshot``, run again (up to ``attempts`` times in all) when
    PostgreSQL could not serialize it against a concurrent writer."""
    for attempt in range(1, attempts + 1):
        try:
            with one_snapshot():
                return work()
        except OperationalError as error:
            cause = getattr(error, "__cause__", None)
            if getattr(cause, "sqlstate", None) != _SERIALIZATION_FAILURE or attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
