import pytest

from sla.plan import parse_plan
from sla.plan.apply import plans_apply
from tests.paging.receiver import Receiver

# A service whose Tier 2 is reached through its on-call rotation, a P0 starting there: the
# plan the on-call tests share (tests add their own ``notify:`` after it).
SRE_ON_CALL_PLAN = """
service: {slug: sre, name: SRE service}
priorities:
  - {code: P0, name: Critical, response: 15m, resolution: 4h, start_tier: 2}
  - {code: P2, name: Normal, response: 4h}
tiers:
  - {level: 1, name: Helpdesk}
  - {level: 2, name: SRE, on_call: true}
on_call:
  handoff: mon 09:00
  layers: [primary, secondary]
  acknowledge: 10m
"""


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
