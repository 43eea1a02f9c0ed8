"""Drive the test identity provider from a test: start it, manage its people, and walk the
real authorization-code flow through it.

The portal side is Django's test client; the person's browser at the provider is a
``requests`` session that follows redirects and fills in the provider's log-in form. The code
and state the provider sends back are handed to the portal's callback exactly as a browser
would follow the redirect, and the portal then talks to the provider over HTTP itself (token
exchange with the PKCE verifier, keys) — nothing on either side is faked.
"""

import json
import os
import re
import secrets
import select
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests

ROOT = Path(__file__).resolve().parents[3]
PORTAL = "http://testserver"
REDIRECT_URI = f"{PORTAL}/accounts/sso/callback/"
IDP_PASSWORD = "idp-pass-2026"  # noqa: S105 (a test provider's test people)


class Provider:
    def __init__(self, tmp_path):
        self.control_token = secrets.token_urlsafe(16)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_", "CELERY_"))
        }
        env.update(
            PROVIDER_DB=str(tmp_path / "provider.sqlite3"),
            PROVIDER_REDIRECT_URI=REDIRECT_URI,
            PROVIDER_CONTROL_TOKEN=self.control_token,
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.accounts.oidc_provider.serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        ready, _, _ = select.select([self.process.stdout], [], [], 120)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise RuntimeError(f"the test identity provider did not start: {self.stderr()}")
        config = json.loads(line)
        self.issuer = config["issuer"]
        self.client_id = config["client_id"]
        self.client_secret = config["client_secret"]
        self.base = self.issuer.rsplit("/o", 1)[0]

    def stderr(self):
        if self.process.poll() is None:
            return ""
        return self.process.stderr.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def _control(self, path, payload=None):
        response = requests.post(
            f"{self.base}/control/users/{path}",
            data=json.dumps(payload if payload is not None else {}),
            headers={"Authorization": f"Bearer {self.control_token}"},
            timeout=10,
        )
        response.raise_for_status()
        return response

    def add_user(self, username, *, email, groups=(), verified=True, password=IDP_PASSWORD):
        groups = [*groups, *([] if verified else ["unverified-email"])]
        data = {"username": username, "email": email, "password": password, "groups": groups}
        return self._control("", data).json()["sub"]

    def set_groups(self, username, groups):
        self._control(f"{username}/groups/", list(groups))

    def deactivate(self, username):
        self._control(f"{username}/deactivate/")

    def delete(self, username):
        self._control(f"{username}/delete/")

    def sign_in(self, client, username, *, password=IDP_PASSWORD, start=None, browser=None):
        """Press "Sign in with …" on the portal, log in at the provider, come back; returns
        ``(portal response to the callback, the provider's authorization URL)``."""
        start = start or "/accounts/sso/login/"
        response = client.get(start)
        assert response.status_code == 302, response
        authorize_url = response["Location"]
        assert authorize_url.startswith(self.issuer), authorize_url
        browser = browser or requests.Session()
        location = self._browse(browser, authorize_url, username, password)
        callback = urlsplit(location)
        return client.get(f"{callback.path}?{callback.query}"), authorize_url

    def _browse(self, browser, url, username, password):
        """Follow the provider's redirects, filling in its log-in form once, until it sends
        the browser back to the portal."""
        logged_in = False
        for _ in range(10):
            page = browser.get(url, allow_redirects=False, timeout=10)
            if page.is_redirect:
                url = urljoin(url, page.headers["Location"])
                if url.startswith(PORTAL):
                    return url
                continue
            assert page.status_code == 200, (page.status_code, page.text[:500])
            assert not logged_in, "the provider refused the password"
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
            next_url = re.search(r'name="next" value="([^"]*)"', page.text).group(1)
            posted = browser.post(
                page.url,
                data={
                    "csrfmiddlewaretoken": token,
                    "username": username,
                    "password": password,
                    "next": next_url.replace("&amp;", "&"),
                },
                allow_redirects=False,
                timeout=10,
            )
            logged_in = True
            if not posted.is_redirect:
                raise AssertionError(f"provider log-in failed: {posted.status_code}")
            url = urljoin(page.url, posted.headers["Location"])
            if url.startswith(PORTAL):
                return url
        raise AssertionError("the provider never sent the browser back")
