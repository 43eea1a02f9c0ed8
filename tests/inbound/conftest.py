"""A service with a support address, its customer, and a builder of raw messages."""

from email.message import EmailMessage
from email.utils import make_msgid

import pytest

from tests import factories

SUPPORT = "help@acme-support.example"


def make_mail(
    *,
    sender,
    to=SUPPORT,
    subject="The export fails",
    body="Hello,\n\nthe CSV export fails since this morning.\n",
    html=None,
    message_id=None,
    headers=None,
    attachments=(),
):
    """One message as an MTA hands it over (bytes, CRLF-free is fine for the parser)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="client.example")
    for name, value in (headers or {}).items():
        message[name] = value
    if body is not None:
        message.set_content(body)
    if html is not None:
        if body is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name, data, content_type in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


@pytest.fixture
def support_service(db):
    service = factories.ServiceFactory(contact=SUPPORT, name="ACME ERP")
    factories.PriorityFactory(service=service, code="P1", name="High", position=0)
    factories.PriorityFactory(service=service, code="P3", name="Low", position=1)
    return service


@pytest.fixture
def client_user(support_service):
    return factories.CustomerFactory(email="ann@client.example", services=[support_service])
