"""The maintenance month grid names each window: its time, service and window name in the day's
cell, not just "02:00" (issue 13)."""

import re

import pytest

from tests import factories
from tests.maintenance.conftest import make_policy, make_window


@pytest.fixture
def service(db, clock):
    xsafe = factories.ServiceFactory(slug="xsafe-erp", name="XSafe ERP")
    make_policy(xsafe)
    make_window(xsafe, name="Scheduled downtime")
    return xsafe


def test_each_month_cell_names_the_service_and_the_window(client, service):
    html = client.get("/maintenance/").content.decode()
    entries = re.findall(r'data-testid="month-entry">(.*?)</div>', html, re.S)
    assert entries
    for entry in entries:
        text = re.sub(r"<[^>]+>", " ", entry)
        assert "XSafe ERP" in text and "Scheduled downtime" in text
        assert re.search(r"\d\d:\d\d", text)
