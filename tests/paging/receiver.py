"""A real HTTP receiver on loopback that records what it is sent and answers as told.

Each test gets its own server on a free port, in a thread (``ThreadingHTTPServer``: a hanging
answer to one request does not block the next). ``answers`` is a list consumed in order, one
per request: an HTTP status, or ``"hang"`` (hold the request open until the server stops);
once it is empty every request gets ``default``. With ``tls`` it serves HTTPS. A GET is
answered from ``files`` (path → bytes; 404 otherwise) and recorded in ``fetched``.
"""

import json
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class Receiver:
    def __init__(self, *, default=200, tls=None):
        self.default = default
        self.answers = []
        self.requests = []
        self.files = {}
        self.fetched = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    answer = receiver.answers.pop(0) if receiver.answers else receiver.default
                if answer == "hang":
                    receiver._stop.wait(30)
                    return
                self.send_response(answer)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def do_GET(self):
                with receiver._lock:
                    receiver.fetched.append(self.path)
                    content = receiver.files.get(self.path)
                self.send_response(200 if content is not None else 404)
                self.send_header("Content-Length", str(len(content or b"")))
                self.end_headers()
                self.wfile.write(content or b"")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            # ``tls``: (certificate file, key file); the server then speaks HTTPS only.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self):
        return self.server.server_address[1]

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
