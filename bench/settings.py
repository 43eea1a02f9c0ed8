"""The benchmarks' settings: production's (``portal.settings.base``, configured from the
environment by bench/common.py), with one more URL, the minimal signed-in view the pages and
the load are compared with (bench/urls.py). Nothing else differs, so the baseline goes through
the same middleware, sessions and authentication as the pages it is the baseline of."""

from portal.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
