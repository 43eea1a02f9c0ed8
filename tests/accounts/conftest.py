import re

import pytest

from notifications.models import Notification


@pytest.fixture
def link_in_outbox():
    """The first portal link of the outbox email whose key contains ``key_part``."""

    def find(key_part):
        notification = Notification.objects.filter(key__contains=key_part).latest("id")
        match = re.search(r"http://testserver(/\S+)", notification.body_text)
        assert match, notification.body_text
        return notification, match.group(1)

    return find


@pytest.fixture
def eager_tasks():
    """``.delay()`` runs the task in place, as a worker would after commit."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
