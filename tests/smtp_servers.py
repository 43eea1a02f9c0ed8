"""A real SMTP server (aiosmtpd) on a spare loopback port, with the portal's mail sent to it."""

import socket
from contextlib import contextmanager

from aiosmtpd.controller import Controller


@contextmanager
def smtp_server_on_loopback(handler, settings):
    """Serve ``handler`` (an aiosmtpd handler) on 127.0.0.1 and point Django's SMTP backend at
    it (pytest-django's ``settings`` puts the settings back); yields the handler."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "ACME Support <support@portal.example>"
    try:
        yield handler
    finally:
        controller.stop()
