import pytest

from sla.plan import parse_plan
from sla.plan.apply import plans_apply
from tests.paging.receiver import Receiver


def load_plan_text(text):
    """Validate and apply a plan as ``load_plan`` does; returns the apply report."""
    return plans_apply(plans=[parse_plan(text, "test-plan.yaml")])[0][1]


@pytest.fixture
def receiver(settings):
    """A loopback receiver the paging code may send to (127.0.0.1 allow-listed)."""
    settings.PAGING_ALLOWED_HOSTS = ["127.0.0.1"]
    with Receiver() as server:
        settings.PAGING_PAGERDUTY_URL = server.url("/v2/enqueue")
        yield server
