"""POST a page to its destination: only to public addresses, with a short timeout.

A destination URL comes from a plan or the environment, so it is not trusted to be harmless:
one pointing at ``127.0.0.1``, a private network or the cloud metadata address
(``169.254.169.254``) would make the portal a proxy into its own network (SSRF). The host is
resolved once, every address it resolves to must be public (``ip.is_global``), and the
connection is made to that vetted address (TLS still checks the certificate against the host
name), so a DNS answer that changes between the check and the connection cannot slip a private
address in. Redirects are not followed. Hosts named in ``PAGING_ALLOWED_HOSTS`` skip the address
check and may use plain http (tests, an internal relay on purpose).

Errors say what failed without the URL: a Slack or Teams webhook URL is itself the secret.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class Refused(Exception):
    """The destination is not one we send to (SSRF guard, bad URL); retrying will not help."""


class Unreachable(Exception):
    """No answer in time, or no connection: the destination may be back later."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


def vet(url):
    """``(scheme, host, port, path, addresses)`` for ``url``, or ``Refused``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise Refused("not an http(s) URL")
    allowed = host in {name.lower() for name in settings.PAGING_ALLOWED_HOSTS}
    if parts.scheme == "http" and not allowed:
        raise Refused(f"plain http to {host} is refused: use https")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused("the URL's port is not a number") from exc
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unreachable(f"cannot resolve {host}") from exc
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allowed:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if getattr(ip, "ipv4_mapped", None):
                ip = ip.ipv4_mapped
            if not ip.is_global:
                raise Refused(
                    f"{host} resolves to a loopback, private, link-local or reserved "
                    "address; add it to PAGING_ALLOWED_HOSTS if that is intended"
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port, path, addresses


def _connect(addresses, port, timeout):
    """A socket to the first of the vetted ``addresses`` that accepts (IPv6, then IPv4 …)."""
    error = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            error = exc
    raise error


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, addresses, timeout):
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self):
        self.sock = _connect(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, addresses, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._addresses = addresses

    def connect(self):
        sock = _connect(self._addresses, self.port, self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url, *, body, headers, timeout=None):
    """POST ``body`` (bytes) to ``url``; the answer, ``Refused`` or ``Unreachable``."""
    return _request("POST", url, body=body, headers=headers, timeout=timeout, limit=2000)


def get(url, *, headers=None, timeout=None, limit=65536):
    """GET ``url`` through the same guard (an SNS signing certificate, a SubscribeURL); the
    answer's first ``limit`` bytes, ``Refused`` or ``Unreachable``."""
    return _request("GET", url, body=None, headers=headers or {}, timeout=timeout, limit=limit)


def _request(method, url, *, body, headers, timeout, limit):
    scheme, host, port, path, addresses = vet(url)
    timeout = settings.PAGING_TIMEOUT if timeout is None else timeout
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, addresses=addresses, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return Response(status=answer.status, body=answer.read(limit))
    except TimeoutError as exc:
        raise Unreachable(f"no answer from {host} within {timeout:g} s") from exc
    except ssl.SSLError as exc:
        raise Unreachable(f"TLS with {host} failed ({exc.reason or type(exc).__name__})") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise Unreachable(f"connection to {host} failed ({type(exc).__name__})") from exc
    finally:
        connection.close()
