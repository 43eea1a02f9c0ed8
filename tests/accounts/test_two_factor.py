"""Two-factor sign-in (TOTP authenticator + recovery codes): enrolment, the code step after the
password, throttling of wrong codes with axes, and the admin refusing staff without it when
STAFF_2FA_REQUIRED."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import otp
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def code_for(device, at_step=0):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = NOW.timestamp() + at_step * device.step
    return f"{totp.token():0{device.digits}d}"


def enrolled(user):
    """Give ``user`` a confirmed authenticator and recovery codes, as the pages would."""
    device = otp.authenticator_enrolment_start(user=user)
    _, codes = otp.authenticator_enrolment_confirm(user=user, code=code_for(device))
    device.refresh_from_db()
    return device, codes


def password_step(client, user, path="login"):
    return client.post(reverse(path), {"username": user.email, "password": PASSWORD})


def test_enrolment_shows_a_qr_code_then_the_recovery_codes_once(client):
    """Set-up: an SVG QR code (no inline style, never cached) and the typed secret; the first
    right code turns it on and shows ten recovery codes, which no page shows again."""
    staff = factories.StaffFactory(tier=1)
    client.force_login(staff)
    response = client.post(reverse("two_factor"), {"action": "start"})
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_setup")
    page = client.get(reverse("two_factor_setup"))
    assert f'src="{reverse("two_factor_qr")}"' in page.text
    qr = client.get(reverse("two_factor_qr"))
    assert qr["Content-Type"] == "image/svg+xml" and "no-store" in qr["Cache-Control"]
    assert b"<svg" in qr.content and b"style" not in qr.content
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert page.context["secret"].replace(" ", "") in device.config_url

    wrong = client.post(reverse("two_factor_setup"), {"code": "000000"})
    assert "not right" in wrong.text and not otp.user_has_second_factor(user=staff)
    done = client.post(reverse("two_factor_setup"), {"code": code_for(device, at_step=1)})
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", done.text)
    assert len(codes) == 10
    assert set(codes) == set(StaticToken.objects.values_list("token", flat=True))
    assert otp.user_has_second_factor(user=staff)
    status = client.get(reverse("two_factor"))
    assert "10</strong> unused recovery codes" in status.text
    assert not any(code in status.text for code in codes)
    assert client.get(reverse("two_factor_qr")).status_code == 404


def test_password_then_code(client, clock):
    """With an authenticator, a right password is not yet a sign-in: the code step follows,
    and only the right code opens the session (and marks it verified)."""
    staff = factories.StaffFactory(tier=1)
    device, _ = enrolled(staff)

    response = password_step(client, staff)
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_verify")
    assert client.get(reverse("admin:index")).status_code == 302  # not signed in yet
    assert "_auth_user_id" not in client.session

    wrong = client.post(reverse("two_factor_verify"), {"code": "123456"})
    assert wrong.status_code == 200 and "not right" in wrong.text
    clock.move_to(NOW + timedelta(seconds=30))
    response = client.post(reverse("two_factor_verify"), {"code": code_for(device, at_step=1)})
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200
    assert otp.second_factor_satisfied(client.get(reverse("home")).wsgi_request)


def test_a_recovery_code_works_once(client):
    staff = factories.StaffFactory(tier=1)
    _, codes = enrolled(staff)
    password_step(client, staff)
    response = client.post(reverse("two_factor_verify"), {"code": codes[0].upper()})
    assert response.status_code == 302
    client.post(reverse("logout"))
    password_step(client, staff)
    again = client.post(reverse("two_factor_verify"), {"code": codes[0]})
    assert again.status_code == 200 and "used already" in again.text
    assert otp.recovery_codes_left(user=staff) == 9


def test_the_code_step_expires_and_needs_the_password_first(client, clock):
    """The code step belongs to a password entered in the last five minutes, in this
    session; without one it asks to log in."""
    staff = factories.StaffFactory(tier=1)
    device, _ = enrolled(staff)
    assert client.get(reverse("two_factor_verify")).status_code == 302
    password_step(client, staff)
    clock.move_to(NOW + timedelta(minutes=6))
    response = client.post(reverse("two_factor_verify"), {"code": code_for(device, 12)})
    assert response.status_code == 302 and response["Location"] == reverse("login")


def test_wrong_codes_lock_the_account_like_wrong_passwords(client, settings):
    """Wrong codes count as failed log-ins for axes, in the same count as wrong passwords:
    at the limit the lockout page answers, even to the right code and the right password."""
    settings.AXES_ENABLED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # axes is what is pinned here, not django-otp's delay
    staff = factories.StaffFactory(tier=1, email="locked@example.com")
    device, _ = enrolled(staff)
    client.post(reverse("login"), {"username": staff.email, "password": "wrong"})
    password_step(client, staff)
    statuses = [
        client.post(reverse("two_factor_verify"), {"code": "000000"}).status_code for _ in range(4)
    ]
    assert statuses[:3] == [200, 200, 200] and statuses[3] in (403, 429)
    right = client.post(reverse("two_factor_verify"), {"code": code_for(device, 1)})
    assert right.status_code in (403, 429)
    assert "Too many failed log-in attempts" in right.text
    assert password_step(client, staff).status_code in (403, 429)
    assert client.get(reverse("admin:index")).status_code == 302
    # Axes keeps each failure's form, with the code masked like the password.
    stored = [a.post_data for a in AccessAttempt.objects.all()]
    stored += [f.post_data for f in AccessFailureLog.objects.all()]
    assert any("code=" in text for text in stored)
    assert not any("000000" in text for text in stored)


def test_django_otp_slows_down_guessing_too(client, clock):
    """After a wrong code the device refuses even the right one for a moment (doubling)."""
    staff = factories.StaffFactory(tier=1)
    device, _ = enrolled(staff)
    password_step(client, staff)
    client.post(reverse("two_factor_verify"), {"code": "000000"})
    refused = client.post(reverse("two_factor_verify"), {"code": code_for(device, 1)})
    assert refused.status_code == 200
    clock.move_to(NOW + timedelta(seconds=31))
    assert (
        client.post(reverse("two_factor_verify"), {"code": code_for(device, 1)}).status_code == 302
    )


def test_admin_login_has_the_code_step_too(client):
    """/admin/login/ is the same two-step log-in: no admin session without the code."""
    staff = factories.StaffFactory(tier=1)
    device, _ = enrolled(staff)
    response = client.post(
        reverse("admin:login"),
        {"username": staff.email, "password": PASSWORD, "next": "/admin/tickets/"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_verify")
    assert client.get(reverse("admin:index")).status_code == 302
    done = client.post(reverse("two_factor_verify"), {"code": code_for(device, 1)})
    assert done["Location"] == "/admin/tickets/"


def test_required_two_factor_sends_staff_to_enrolment(client, settings):
    """With STAFF_2FA_REQUIRED the admin refuses staff without a verified second factor: to
    enrolment when they have none, to the code step when their session has not used it.
    Customers' pages are not affected."""
    settings.STAFF_2FA_REQUIRED = True
    staff = factories.StaffFactory(tier=1)
    client.force_login(staff)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor") + "?next=")
    assert client.get(reverse("home")).status_code == 200

    client.post(reverse("two_factor") + "?next=/admin/", {"action": "start"})
    device = TOTPDevice.objects.get(user=staff)
    done = client.post(reverse("two_factor_setup") + "?next=/admin/", {"code": code_for(device)})
    assert 'href="/admin/"' in done.text
    assert client.get(reverse("admin:index")).status_code == 200

    other = client.__class__()
    other.force_login(staff)  # a session that has not used the factor
    response = other.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("two_factor_verify"))


def test_required_two_factor_cannot_be_turned_off(client, settings, clock):
    settings.STAFF_2FA_REQUIRED = True
    staff = factories.StaffFactory(tier=1)
    device, _ = enrolled(staff)
    client.force_login(staff)
    response = client.post(
        reverse("two_factor"), {"action": "disable", "code": code_for(device, 1)}
    )
    assert "must keep" in response.text and otp.user_has_second_factor(user=staff)
    settings.STAFF_2FA_REQUIRED = False
    clock.move_to(NOW + timedelta(seconds=60))
    client.post(reverse("two_factor"), {"action": "disable", "code": code_for(device, 2)})
    assert not otp.user_has_second_factor(user=staff)


def test_new_recovery_codes_need_a_code_and_void_the_old(client, clock):
    staff = factories.StaffFactory(tier=1)
    device, old = enrolled(staff)
    client.force_login(staff)
    refused = client.post(reverse("two_factor"), {"action": "codes", "code": "999999"})
    assert "not right" in refused.text
    clock.move_to(NOW + timedelta(seconds=2))  # past django-otp's delay after a wrong code
    response = client.post(reverse("two_factor"), {"action": "codes", "code": old[0]})
    new = re.findall(r"<li>([a-z2-7]{8})</li>", response.text)
    assert len(new) == 10 and not set(new) & set(old)
    assert not StaticToken.objects.filter(token__in=old).exists()
