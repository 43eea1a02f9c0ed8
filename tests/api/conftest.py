"""Fixtures of the API tests: tokens, and a client that sends them."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from api import services


def make_token(user, scope="write", days=30):
    token, raw = services.token_create(
        user=user, name="test", scope=scope, expires_at=timezone.now() + timedelta(days=days)
    )
    return token, raw


class ApiClient:
    """A test client whose every request carries ``Authorization: Bearer <raw>``."""

    def __init__(self, raw=None):
        self.client = Client()
        self.raw = raw

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.raw:
            headers.setdefault("Authorization", f"Bearer {self.raw}")
        return headers

    def get(self, path, data=None, headers=None):
        return self.client.get(path, data, headers=self._headers(headers))

    def post(self, path, data=None, headers=None, multipart=False):
        if multipart:
            return self.client.post(path, data or {}, headers=self._headers(headers))
        return self.client.post(
            path, data or {}, content_type="application/json", headers=self._headers(headers)
        )


@pytest.fixture
def api_as():
    """``api_as(user, scope="write")``: an ApiClient with a fresh token of that user."""

    def make(user, scope="write"):
        return ApiClient(make_token(user, scope)[1])

    return make
