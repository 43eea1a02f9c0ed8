from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from notifications.models import Notification
from portal.celery import app
from tests.notifications.backends import RecordingBackend

TEMPLATES_DIR = Path(__file__).parent / "templates"


@pytest.fixture
def outbox_templates(settings):
    """Adds ``emails/outbox_tests/hello.*``, templates that belong to no app."""
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], TEMPLATES_DIR]}
    ]


@pytest.fixture
def eager_tasks():
    """``.delay()`` runs the task in place, as a worker would after commit."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def recording_backend(settings):
    RecordingBackend.reset()
    settings.EMAIL_BACKEND = "tests.notifications.backends.RecordingBackend"
    yield RecordingBackend
    RecordingBackend.reset()


def make_pending(count, *, due=None, prefix="n", **fields):
    """``count`` pending rows, due at ``due`` (default: a minute ago), each with its own subject."""
    due = due or timezone.now() - timedelta(minutes=1)
    start = Notification.objects.count()
    return Notification.objects.bulk_create(
        Notification(
            **{
                "key": f"{prefix}:{start + i}",
                "to": f"person{start + i}@example.com",
                "subject": f"{prefix} subject {start + i}",
                "body_text": "Text.",
                "body_html": "<p>HTML.</p>",
                "next_attempt_at": due,
                **fields,
            }
        )
        for i in range(count)
    )
