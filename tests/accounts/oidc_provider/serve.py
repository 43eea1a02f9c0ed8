"""Start the test identity provider: ``python -m tests.accounts.oidc_provider.serve``.

Binds 127.0.0.1 on a free port, generates an RSA key, migrates a fresh SQLite file, registers
one confidential client (authorization code + PKCE, RS256 ID tokens) for the redirect URI in
``PROVIDER_REDIRECT_URI``, prints ``{"issuer": …, "client_id": …, "client_secret": …}`` on one
line and serves until killed.
"""

import json
import os
import secrets
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def main():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    os.environ["PROVIDER_RSA_KEY"] = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    os.environ.setdefault("PROVIDER_SECRET_KEY", secrets.token_urlsafe(40))
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.accounts.oidc_provider.settings"

    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    httpd = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    port = httpd.server_address[1]

    import django

    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    client_secret = secrets.token_urlsafe(32)
    application = Application.objects.create(
        name="support portal",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=os.environ["PROVIDER_REDIRECT_URI"],
        algorithm=Application.RS256_ALGORITHM,
        client_secret=client_secret,
        skip_authorization=True,
    )
    httpd.set_app(get_wsgi_application())
    print(
        json.dumps(
            {
                "issuer": f"http://127.0.0.1:{port}/o",
                "client_id": application.client_id,
                "client_secret": client_secret,
            }
        ),
        flush=True,
    )
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()


if __name__ == "__main__":
    sys.exit(main())
