"""The https path pages take in production: the connection is pinned to the vetted address,
yet TLS still checks the certificate against the destination's host name."""

import shutil
import subprocess

import pytest

from paging import transport
from tests.paging.receiver import Receiver

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for ``localhost`` (cert file, key file)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            OPENSSL,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return str(cert), str(key)


@pytest.fixture
def tls_receiver(certificate, settings):
    settings.PAGING_ALLOWED_HOSTS = ["localhost"]
    with Receiver(tls=certificate) as server:
        yield server


def test_https_to_a_trusted_certificate_is_delivered(tls_receiver, certificate, monkeypatch):
    """Trusting the certificate (SSL_CERT_FILE), a POST to https://localhost arrives, with the
    host name in the Host header though the socket went to the vetted address."""
    monkeypatch.setenv("SSL_CERT_FILE", certificate[0])
    url = f"https://localhost:{tls_receiver.port}/hook"
    response = transport.post(url, body=b"{}", headers={"Content-Type": "application/json"})
    assert response.status == 200
    (request,) = tls_receiver.requests
    assert request.path == "/hook" and request.headers["host"] == f"localhost:{tls_receiver.port}"


def test_an_untrusted_certificate_is_refused_before_anything_is_sent(tls_receiver, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    url = f"https://localhost:{tls_receiver.port}/hook"
    with pytest.raises(transport.Unreachable, match="TLS with localhost failed"):
        transport.post(url, body=b"{}", headers={})
    assert tls_receiver.requests == []
