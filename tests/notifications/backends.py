"""Email backends the outbox tests point ``settings.EMAIL_BACKEND`` at.

Django builds a new backend for every connection, so what they record lives on the class.
"""

import threading
from collections import Counter

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server says no")


class UnreachableBackend(BaseEmailBackend):
    """A mail server that cannot even be connected to."""

    opened = 0

    def open(self):
        type(self).opened += 1
        raise ConnectionRefusedError("no route to the mail server")

    def send_messages(self, email_messages):
        raise AssertionError("never reached: open() fails first")


class WorkerKilled(BaseException):
    """What a SIGKILL, an OOM kill or a pulled plug looks like from inside: nothing catches it."""


class RecordingBackend(BaseEmailBackend):
    """Counts every accepted message by subject, safely from many threads at once."""

    lock = threading.Lock()
    sent = Counter()
    # When set, the crash comes before (or just after) the message numbered ``crash_at``.
    crash_at = None
    crash_after_accepting = False

    @classmethod
    def reset(cls, *, crash_at=None, crash_after_accepting=False):
        with cls.lock:
            cls.sent = Counter()
            cls.crash_at = crash_at
            cls.crash_after_accepting = crash_after_accepting

    def send_messages(self, email_messages):
        cls = type(self)
        for message in email_messages:
            with cls.lock:
                number = sum(cls.sent.values()) + 1
                crash = cls.crash_at is not None and number >= cls.crash_at
                if crash:
                    cls.crash_at = None  # the process is gone: one crash only
                    if not cls.crash_after_accepting:
                        raise WorkerKilled(f"killed before message {number} was accepted")
                cls.sent[message.subject] += 1
                if crash:
                    raise WorkerKilled(f"killed after message {number} was accepted")
        return len(email_messages)


class SMTPSink:
    """A minimal SMTP server on 127.0.0.1 in a thread: keeps every message's raw bytes."""

    def __init__(self):
        import socketserver

        received = self.received = []

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 sink ESMTP\r\n")
                envelope = {}
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        self.wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
                    elif verb == b"RCPT":
                        envelope["to"] = line[8:].strip().decode()
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == b"DATA":
                        self.wfile.write(b"354 go ahead\r\n")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                        received.append((envelope.get("to"), b"".join(data)))
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.host, self.port = self.server.server_address

    def close(self):
        self.server.shutdown()
        self.server.server_close()
