"""Credentials in an email, masked for display.

A page that shows what an email said (the outbox) shows where its links lead, never the token
that makes them work: a confirm, unsubscribe, email-verification or password-reset link acts for
its recipient without a login, so whoever reads it could act for them (a superuser too).

Links are recognised by our own URLconf, not by their look: in a link to this site whose route
has a parameter named ``…token`` (``maintenance:unsubscribe``, ``maintenance:subscription_confirm``,
``verify``, Django's ``password_reset_confirm``) that path segment becomes ``MASK``. A new route
that carries a credential names its parameter so, and is masked too. The credential is then
masked wherever else it appears in the same email (an outbox key made from it, say).
"""

import re
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.urls import Resolver404, resolve

MASK = "<masked>"

# An absolute link up to whatever ends it in text, HTML (a quote, a tag) or a header ("<…>").
_LINK = re.compile(r"https?://[^\s<>\"']+")
# Sentence punctuation after a link in text ("… here: https://…/abc/.") is not part of it.
_TRAILING = ".,;:!?)]}"
# Shorter values are masked inside links only: replacing them everywhere would garble the text.
_MASK_EVERYWHERE_FROM = 8


def mask_credentials(*texts):
    """The ``texts`` (text, HTML source, header values, the outbox key …) of one email, in
    order, with every credential that a link in any of them carries masked."""
    found = set()
    linked = [_LINK.sub(lambda link: _mask_link(link.group(), found), text or "") for text in texts]
    everywhere = sorted(
        (value for value in found if len(value) >= _MASK_EVERYWHERE_FROM), key=len, reverse=True
    )
    masked = []
    for text in linked:
        for value in everywhere:
            text = text.replace(value, MASK)
        masked.append(text)
    return masked


def _mask_link(link, found):
    url = link.rstrip(_TRAILING)
    return _masked_url(url, found) + link[len(url) :]


def _masked_url(url, found):
    parts = urlsplit(url)
    path = parts.path
    # SITE_URL may carry a path prefix ahead of the routes (a portal served under /support/).
    prefix = urlsplit(settings.SITE_URL).path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    try:
        match = resolve(path)
    except Resolver404:
        return url
    credentials = {value for name, value in match.kwargs.items() if "token" in name and value}
    if not credentials:
        return url
    found |= credentials
    segments = parts.path.split("/")
    masked = "/".join(MASK if segment in credentials else segment for segment in segments)
    return urlunsplit(parts._replace(path=masked))
