"""``/api/v2/``: Statuspage's public v2 endpoints (CONTRACTS.md)."""

from django.urls import path

from . import api
from .statuspage import KINDS

urlpatterns = [
    path(
        f"{kind}.json",
        api.document,
        {"kind": kind},
        name="statuspage_" + kind.replace("/", "_").replace("-", "_"),
    )
    for kind in KINDS
]
