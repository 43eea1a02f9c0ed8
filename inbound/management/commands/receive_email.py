"""``python manage.py receive_email``: one message on standard input, as an MTA pipe gives it.

Exit status (sysexits, which Postfix and Exim understand): 0 when the message was taken,
deliberately ignored or a duplicate; 65 (EX_DATAERR, the MTA bounces it) when it was refused,
with a one-line reason; 75 (EX_TEMPFAIL, the MTA retries later) when it could not be stored.
"""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from inbound.models import InboundMessage
from inbound.reading import read_capped
from inbound.services import inbound_receive

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Read one RFC 5322 message on standard input and act on it like any inbound mail."
    # call_command(..., stdin=a binary stream) in tests.
    stealth_options = ("stdin",)

    def handle(self, *args, **options):
        stream = options.get("stdin") or sys.stdin
        stream = getattr(stream, "buffer", stream)
        raw, size = read_capped(stream, limit=settings.INBOUND_EMAIL_MAX_BYTES)
        if not raw.strip():
            raise CommandError("refused: the message is empty", returncode=EX_DATAERR)
        try:
            receipt = inbound_receive(raw=raw, via=InboundMessage.Via.PIPE, size=size)
        except DatabaseError as exc:
            raise CommandError(
                f"not stored, try again later: {exc}".splitlines()[0], returncode=EX_TEMPFAIL
            ) from None
        message = receipt.message
        if message.outcome == InboundMessage.Outcome.REFUSED and not receipt.duplicate:
            raise CommandError(
                f"refused: {' '.join(message.reason.split())}", returncode=EX_DATAERR
            )
        state = "duplicate" if receipt.duplicate else message.outcome
        self.stdout.write(f"{state}: {' '.join(message.reason.split())}".rstrip(": "))
