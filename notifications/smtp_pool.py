"""Several SMTP connections kept busy by one outbox sweep (``delivery.notifications_send_due``).

Handing a message to a mail server is a conversation of ~4 round trips (MAIL, RCPT, DATA, the
content), so one connection spends most of its time waiting for answers. The sweep's worker
keeps ``NOTIFICATION_SMTP_CONNECTIONS`` connections open instead, each in a thread of its own
(socket I/O releases the GIL), and hands them the messages of the group it has locked: each
thread takes the group's next message and sends it over its own connection until none is left.

Only the network is done here. The threads never touch the database: the sweep's thread locked
the group, reads the outcomes when every thread is done and commits them in the group's one
transaction, exactly as with one connection (what a crash costs stays one group).
"""

import collections
import logging
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass

logger = logging.getLogger(__name__)

NOT_TRIED = object()  # a connection could not be opened, so the rest of the group was left


@dataclass(frozen=True)
class Unreachable:
    """The outcome of a message whose connection could not be opened: ``error`` says why."""

    error: Exception


class SMTPPool:
    """SMTP backends (``get_connection()``), each used by one thread at a time.

    A connection the server refuses (some limit the connections per client) is left out for
    the rest of the sweep; the others carry on with its share.
    """

    def __init__(self, backends):
        self.backends = list(backends)
        self._threads = ThreadPoolExecutor(
            max_workers=len(self.backends), thread_name_prefix="outbox-smtp"
        )

    def send(self, messages):
        """Send every ``messages`` item (a callable taking an open backend), spread over the
        connections. Returns one outcome per item, in order: None (the server accepted it),
        the exception it raised, ``Unreachable`` or ``NOT_TRIED``.

        When no connection can be opened, the first message left is ``Unreachable`` (it is
        charged the attempt, as over one connection) and the rest ``NOT_TRIED``. Whatever is
        not an ``Exception`` (a worker being killed) is raised here, once every thread has
        stopped.
        """
        queue = collections.deque(enumerate(messages))
        outcomes = [NOT_TRIED] * len(messages)
        refused = {}  # backend → why it could not be opened
        busy = self.backends[: len(messages)]  # a connection is opened only when needed
        futures = [
            self._threads.submit(_drain, backend, queue, outcomes, refused) for backend in busy
        ]
        try:
            wait(futures)
        except BaseException:
            # The sweep gives up while the threads send (a soft time limit, a shutdown): its
            # transaction rolls back and the whole group stays pending, so send no more of it;
            # the next sweep sends it. Only the messages already on the wire go twice.
            queue.clear()
            raise
        for future in futures:
            future.result()  # re-raises a BaseException from a thread
        for backend, error in refused.items():
            logger.warning("Mail server refused a connection, left out of this sweep: %s", error)
            self.backends.remove(backend)
        if queue:  # every connection refused
            index, _message = queue.popleft()
            last = next(reversed(refused.values()), None)
            outcomes[index] = Unreachable(last or ConnectionError("no mail connection left"))
        return outcomes

    def close(self):
        self._threads.shutdown(wait=True)
        for backend in self.backends:
            _close_quietly(backend)


def _drain(backend, queue, outcomes, refused):
    while queue:
        try:
            backend.open()  # a no-op while the connection is open
        except Exception as exc:
            refused[backend] = exc
            return
        try:
            index, message = queue.popleft()  # atomic: no two threads take one message
        except IndexError:
            return
        try:
            message(backend)
        except Exception as exc:
            outcomes[index] = exc
            # The session may be broken (disconnect, protocol error); the next one reconnects.
            _close_quietly(backend)
        else:
            outcomes[index] = None


def _close_quietly(backend):
    try:
        backend.close()
    except Exception:  # closing runs after rows are committed; a failed QUIT undoes nothing
        logger.warning("Could not close the mail connection cleanly", exc_info=True)
