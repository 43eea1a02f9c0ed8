"""CloudWatch alarms through Amazon SNS: every message's signature verified against the
certificate at its SigningCertURL (served here by a loopback server the test settings allow),
SignatureVersion 1 and 2, the topic checked against the plan, the subscription confirmed."""

import base64
import datetime as dt
import json

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from alerts import sns
from alerts.models import Alert, AlertGroup, SnsSubscription
from incidents.models import Incident
from sla.models import Service
from tests.paging.conftest import load_plan_text
from tests.paging.receiver import Receiver

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
TOPIC = "arn:aws:sns:eu-west-1:123456789012:portal-alarms"
ALARM_ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx"

PLAN = """
service: {slug: cloudy, name: Cloudy service}
priorities:
  - {code: P0, name: Critical, response: 15m}
  - {code: P1, name: High, response: 1h}
tiers:
  - {level: 1, name: Helpdesk}
alerts:
  - name: aws
    source: cloudwatch
    secret_env: TEST_ALERTS_SNS_TOPIC   # the topic ARN(s) this hook accepts
    severity: P1
    auto_resolve: true
"""


def _keypair(common_name="sns.amazonaws.com", *, days=30):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def signing():
    return _keypair()


@pytest.fixture
def sns_server(settings, signing):
    """A loopback stand-in for sns.<region>.amazonaws.com: serves the signing certificate
    and answers SubscribeURL fetches."""
    settings.ALERTS_SNS_CERT_HOSTS = ["127.0.0.1"]
    settings.PAGING_ALLOWED_HOSTS = ["127.0.0.1"]
    sns.forget_certificates()
    with Receiver() as server:
        server.files["/SimpleNotificationService-test.pem"] = signing[1]
        server.files["/?Action=ConfirmSubscription&Token=tok"] = b"<ConfirmSubscriptionResponse/>"
        yield server
    sns.forget_certificates()


@pytest.fixture
def cloudy(db, monkeypatch):
    monkeypatch.setenv("TEST_ALERTS_SNS_TOPIC", f"{TOPIC}, arn:aws:sns:eu-west-1:1:other")
    load_plan_text(PLAN)
    return Service.objects.get(slug="cloudy")


def signed(message, key, *, version="2"):
    """``message`` signed as SNS signs it."""
    message = {**message, "SignatureVersion": version}
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 (SNS v1 is SHA1)
    signature = key.sign(sns.string_to_sign(message), padding.PKCS1v15(), algorithm)
    message["Signature"] = base64.b64encode(signature).decode()
    return message


def notification(server, state="ALARM", *, message_id="m-1", topic=TOPIC, at=NOW):
    alarm = {
        "AlarmName": "api-5xx",
        "AlarmDescription": "API 5xx rate above 5%",
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed",
        "StateChangeTime": at.isoformat(),
        "Region": "EU (Ireland)",
        "AlarmArn": ALARM_ARN,
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "Trigger": {"MetricName": "5XXError", "Threshold": 5.0},
    }
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic,
        "Subject": f'{state}: "api-5xx" in EU (Ireland)',
        "Message": json.dumps(alarm),
        "Timestamp": at.isoformat().replace("+00:00", "Z"),
        "SigningCertURL": server.url("/SimpleNotificationService-test.pem"),
        "UnsubscribeURL": server.url("/?Action=Unsubscribe"),
    }


def deliver(client, message):
    return client.post(
        "/hooks/alerts/cloudy/aws/",
        json.dumps(message),
        content_type="text/plain; charset=UTF-8",
        headers={"x-amz-sns-message-type": message.get("Type", "")},
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_alarm_opens_and_ok_resolves(client, cloudy, sns_server, signing, version):
    """A correctly signed ALARM (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) opens one
    draft incident keyed by the alarm ARN, a repeat counts on it, OK resolves the alert and,
    with auto_resolve, the incident; the certificate is fetched once (cached)."""
    key = signing[0]
    with time_machine.travel(NOW, tick=False):
        first = deliver(client, signed(notification(sns_server), key, version=version))
        again = deliver(client, signed(notification(sns_server, message_id="m-2"), key))
        assert first.status_code == again.status_code == 200, first.content
        incident = Incident.objects.get(service=cloudy)
        assert incident.title == "API 5xx rate above 5%" and incident.published_at is None
        group = AlertGroup.objects.get(hook__service=cloudy)
        assert group.key == ALARM_ARN and group.count == 2
        ok = deliver(client, signed(notification(sns_server, "OK", message_id="m-3"), key))
        assert ok.status_code == 200
    alert = Alert.objects.get(identity=ALARM_ARN)
    assert alert.status == Alert.Status.RESOLVED
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert sns_server.fetched == ["/SimpleNotificationService-test.pem"]


@pytest.mark.django_db(transaction=True)
def test_tampered_or_foreign_messages_are_refused(client, cloudy, sns_server, signing):
    """A message changed after signing, signed by another key, for a topic the plan does not
    name, with its certificate on a non-SNS host, replayed hours later or unsigned: 401, and
    nothing is stored."""
    key = signing[0]
    other_key, _ = _keypair()
    with time_machine.travel(NOW, tick=False):
        tampered = signed(notification(sns_server), key)
        tampered["Message"] = tampered["Message"].replace("ALARM", "OK")
        foreign_topic = signed(notification(sns_server, topic="arn:aws:sns:eu-west-1:9:x"), key)
        wrong_key = signed(notification(sns_server), other_key)
        elsewhere = notification(sns_server)
        elsewhere["SigningCertURL"] = "https://attacker.example.com/cert.pem"
        elsewhere = signed(elsewhere, key)
        old = signed(notification(sns_server, at=NOW - dt.timedelta(hours=2)), key)
        unsigned = notification(sns_server)
        bad_version = signed(notification(sns_server), key, version="3")
        for message in (tampered, foreign_topic, wrong_key, elsewhere, old, unsigned, bad_version):
            response = deliver(client, message)
            assert response.status_code == 401, message
        assert deliver(client, {"not": "sns"}).status_code == 401
    assert not Alert.objects.exists() and not Incident.objects.exists()
    assert not AlertGroup.objects.exists()


def test_certificate_urls_only_from_sns_hosts(settings):
    """SigningCertURL must be https on sns.<region>.amazonaws.com(.cn); the loopback test host
    is allowed only through the ALERTS_SNS_CERT_HOSTS setting."""
    settings.ALERTS_SNS_CERT_HOSTS = []
    allowed = sns.sns_url_allowed
    assert allowed("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem")
    assert allowed("https://sns.us-gov-west-1.amazonaws.com/x.pem")
    assert allowed("https://sns.cn-north-1.amazonaws.com.cn/x.pem")
    assert not allowed("http://sns.eu-west-1.amazonaws.com/x.pem")
    assert not allowed("https://sns.eu-west-1.amazonaws.com.evil.com/x.pem")
    assert not allowed("https://evil.com/sns.eu-west-1.amazonaws.com/x.pem")
    assert not allowed("https://sns.eu-west-1.amazonaws.com:8443/x.pem")
    assert not allowed("https://s3.amazonaws.com/x.pem")
    assert not allowed("http://127.0.0.1:8000/x.pem")
    settings.ALERTS_SNS_CERT_HOSTS = ["127.0.0.1"]
    assert allowed("http://127.0.0.1:8000/x.pem")


@pytest.mark.django_db(transaction=True)
def test_subscription_is_recorded_and_confirmed_once(client, cloudy, sns_server, signing):
    """A signed SubscriptionConfirmation for the plan's topic is recorded and confirmed by
    fetching its SubscribeURL; delivered again, it is neither recorded nor fetched twice."""
    message = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "sub-1",
        "Token": "tok",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe to the topic …",
        "SubscribeURL": sns_server.url("/?Action=ConfirmSubscription&Token=tok"),
        "Timestamp": NOW.isoformat().replace("+00:00", "Z"),
        "SigningCertURL": sns_server.url("/SimpleNotificationService-test.pem"),
    }
    with time_machine.travel(NOW, tick=False):
        message = signed(message, signing[0])
        first = deliver(client, message)
        second = deliver(client, message)
    assert first.json()["status"] == second.json()["status"] == "confirmed"
    row = SnsSubscription.objects.get()
    assert row.confirmed_at is not None and row.topic_arn == TOPIC and row.error == ""
    confirms = [path for path in sns_server.fetched if "ConfirmSubscription" in path]
    assert len(confirms) == 1
    assert not Incident.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_subscription_confirm_failure_is_shown_for_staff(client, cloudy, sns_server, signing):
    """When the SubscribeURL does not answer 200, the row keeps the URL and the reason."""
    message = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "sub-2",
        "Token": "nope",
        "TopicArn": TOPIC,
        "Message": "You have chosen to subscribe …",
        "SubscribeURL": sns_server.url("/?Action=ConfirmSubscription&Token=nope"),
        "Timestamp": NOW.isoformat().replace("+00:00", "Z"),
        "SigningCertURL": sns_server.url("/SimpleNotificationService-test.pem"),
    }
    with time_machine.travel(NOW, tick=False):
        response = deliver(client, signed(message, signing[0]))
    assert response.json()["status"] == "recorded"
    row = SnsSubscription.objects.get()
    assert row.confirmed_at is None and "HTTP 404" in row.error
    assert row.subscribe_url.endswith("Token=nope")
