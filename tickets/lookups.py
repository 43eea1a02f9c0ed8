"""Per-service and per-plan reads made once per batch instead of once per ticket.

Inbound mail acts on a batch of messages one after another (``inbound_receive_many``); each
new ticket would otherwise read its service's escalation policy, its calendar (and holidays),
its tier and that tier's members again. Inside ``read_once()`` such a read is made the first
time it is asked for and kept until the block ends; outside, every call reads afresh, as
before. What is kept is plan data (a plan loaded meanwhile applies from the next batch, as the
service addresses do) — never anything a customer's access or a limit depends on.
"""

from contextlib import contextmanager
from contextvars import ContextVar

_cache = ContextVar("tickets_lookups", default=None)


@contextmanager
def read_once():
    """Within the block, ``once`` keeps what it read (nested blocks share the outer one's)."""
    if _cache.get() is not None:
        yield
        return
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def reading_once():
    """Whether a ``read_once`` block is open (a batch of inbound mail is being acted on)."""
    return _cache.get() is not None


def once(key, load):
    """``load()``, read once per ``read_once`` block for ``key`` (every time outside one)."""
    cache = _cache.get()
    if cache is None:
        return load()
    if key not in cache:
        cache[key] = load()
    return cache[key]
