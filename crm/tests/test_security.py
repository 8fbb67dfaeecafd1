"""Issue 14: sign-in lockout, the password-reset limit, two-factor sign-in, sessions and the security
log. Each safety mechanism here has a test that fails when the mechanism is taken out."""

import re
import time
from datetime import timedelta

import pyotp
import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import PASSWORD
from crm import security, two_factor
from crm.models import RecoveryCode, Role, SecurityEvent, SecurityEventKind, TwoFactorDevice, UserSession
from crm.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
Kind = SecurityEventKind


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def signed_in(client) -> bool:
    return client.get(reverse("profile")).status_code == 200


def age_events(email: str, minutes: int) -> None:
    """Moves the address's log lines into the past, as if that much time had passed."""
    SecurityEvent.objects.filter(email=email).update(at=timezone.now() - timedelta(minutes=minutes))


# --- Lockout ---------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(client, owner):
    for _ in range(4):
        assert "correct" in sign_in(client, owner.email, "wrong").content.decode()
    assert "locked" in sign_in(client, owner.email, "wrong").content.decode()  # the fifth says so
    response = sign_in(client, owner.email)
    assert response.status_code == 200
    assert "locked" in response.content.decode()
    assert not signed_in(client)
    assert SecurityEvent.objects.filter(kind=Kind.LOCKED, user=owner).count() == 1


def test_the_lock_ends_after_the_window(client, owner, settings):
    for _ in range(5):
        sign_in(client, owner.email, "wrong")
    age_events(owner.email, settings.SIGNIN_LOCKOUT_MINUTES + 1)
    assert sign_in(client, owner.email).status_code == 302
    assert signed_in(client)


def test_a_successful_sign_in_starts_the_count_again(client, owner):
    for _ in range(4):
        sign_in(client, owner.email, "wrong")
    assert sign_in(client, owner.email).status_code == 302
    other = Client()
    for _ in range(4):
        sign_in(other, owner.email, "wrong")
    assert sign_in(other, owner.email).status_code == 302  # 4 + 4 wrong, but never 5 in a row


def test_while_locked_no_guess_reaches_the_password_check(client, owner, monkeypatch):
    """At most SIGNIN_LOCKOUT_FAILURES guesses per window get through: 20 an hour, under the 100 the
    issue allows. Guesses made while locked are not even checked."""
    from crm.backends import EmailBackend

    checked = []
    original = EmailBackend.authenticate
    monkeypatch.setattr(EmailBackend, "authenticate",
                        lambda self, *args, **kwargs: checked.append(1) or original(self, *args, **kwargs))
    for _ in range(150):
        sign_in(client, owner.email, "wrong")
    assert len(checked) == 5
    assert SecurityEvent.objects.filter(kind=Kind.SIGN_IN_FAILED, email=owner.email).count() == 5


def test_an_hour_of_guessing_gets_at_most_twenty_guesses_through(client, owner, monkeypatch, settings):
    """A guess a minute for an hour (the clock moved by the test): the lock lets 5 through per window."""
    clock = [timezone.now()]
    monkeypatch.setattr("django.utils.timezone.now", lambda: clock[0])
    for _ in range(60):
        sign_in(client, owner.email, "wrong")
        clock[0] += timedelta(minutes=1)
    through = SecurityEvent.objects.filter(kind=Kind.SIGN_IN_FAILED, email=owner.email).count()
    assert 5 <= through <= 60 // settings.SIGNIN_LOCKOUT_MINUTES * 5 + 5
    assert through < 100


def test_an_unknown_address_locks_the_same_way_so_the_lock_reveals_nothing(client, db):
    for _ in range(5):
        sign_in(client, "nobody@example.com", "wrong")
    assert "locked" in sign_in(client, "nobody@example.com", "wrong").content.decode()


def test_an_admin_unlocks_an_account(client, owner, admin_user):
    for _ in range(5):
        sign_in(client, owner.email, "wrong")
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(reverse("user_edit", args=[owner.pk])).content.decode()
    assert "Locked" in page and reverse("user_unlock", args=[owner.pk]) in page
    assert admin.post(reverse("user_unlock", args=[owner.pk])).status_code == 302
    assert sign_in(client, owner.email).status_code == 302
    assert SecurityEvent.objects.filter(kind=Kind.UNLOCKED, user=owner, actor=admin_user).exists()


def test_only_an_admin_may_unlock(client, owner, manager):
    client.force_login(manager)
    assert client.post(reverse("user_unlock", args=[owner.pk])).status_code == 403
    assert not SecurityEvent.objects.filter(kind=Kind.UNLOCKED).exists()


def test_many_addresses_from_one_ip_lock_the_ip(client, db, settings):
    settings.SIGNIN_IP_FAILURES = 8
    user = UserFactory(email="victim@example.com")
    for index in range(8):
        sign_in(client, f"guess{index}@example.com", "wrong")
    response = sign_in(client, user.email)
    assert "your network" in response.content.decode()
    other_ip = Client(REMOTE_ADDR="10.1.2.3")
    assert sign_in(other_ip, user.email).status_code == 302


def test_the_user_list_marks_locked_accounts(client, owner, admin_user):
    for _ in range(5):
        sign_in(Client(), owner.email, "wrong")
    client.force_login(admin_user)
    assert "Locked" in client.get(reverse("user_list")).content.decode()


# --- Password reset ------------------------------------------------------------------------------


def test_password_reset_mails_are_limited_per_address(client, owner, settings):
    for _ in range(6):
        response = client.post(reverse("password_reset"), {"email": owner.email})
        assert response.status_code == 302  # the same answer every time
    assert len(mail.outbox) == settings.PASSWORD_RESET_PER_HOUR
    assert SecurityEvent.objects.filter(kind=Kind.PASSWORD_RESET_REQUESTED, email=owner.email).count() == 6


def test_a_password_set_through_reset_ends_every_session_and_lifts_the_lock(client, owner):
    other = Client()
    other.force_login(owner)
    for _ in range(5):
        sign_in(client, owner.email, "wrong")
    client.post(reverse("password_reset"), {"email": owner.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line).strip()
    path = link[link.index("/auth/"):]
    form_url = client.get(path)["Location"]
    response = client.post(form_url, {"new_password1": "A-new-long-pass-42", "new_password2": "A-new-long-pass-42"})
    assert response.status_code == 302
    assert not signed_in(other)
    assert sign_in(client, owner.email, "A-new-long-pass-42").status_code == 302


# --- Sessions ------------------------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session(owner):
    phone, laptop = Client(), Client()
    sign_in(phone, owner.email)
    sign_in(laptop, owner.email)
    assert signed_in(phone) and signed_in(laptop)
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=timezone.now() - timedelta(days=1))
    UserSession.objects.create(user=owner, session_key="x" * 32)  # an expired one is not counted
    assert "signed in on 2 devices" in laptop.get(reverse("profile_security")).content.decode()
    response = laptop.post(reverse("sign_out_everywhere"))
    assert response["Location"] == reverse("login")
    assert not signed_in(phone) and not signed_in(laptop)
    assert not UserSession.objects.filter(user=owner).exists()
    assert SecurityEvent.objects.filter(kind=Kind.SIGNED_OUT_EVERYWHERE, user=owner, detail__sessions=3).exists()


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(owner):
    phone, laptop = Client(), Client()
    sign_in(phone, owner.email)
    sign_in(laptop, owner.email)
    response = laptop.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "Another-long-pass-7", "new_password2": "Another-long-pass-7"})
    assert response.status_code == 302
    assert signed_in(laptop)
    assert not signed_in(phone)
    phone_key = phone.cookies["sessionid"].value
    assert not Session.objects.filter(session_key=phone_key).exists()  # deleted, not only refused
    # The surviving session is still known, so "sign out everywhere" reaches it later.
    assert UserSession.objects.filter(user=owner, session_key=laptop.session.session_key).exists()


def test_the_session_cookie_is_secure_whenever_https_is_configured():
    import subprocess
    import sys

    code = "import crm.settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    env = {"DATABASE_URL": "postgres://x/y", "REDIS_URL": "redis://x:6379/0", "SECRET_KEY": "k", "PATH": ""}
    for extra, expected in [({}, "False False"), ({"SECURE_SSL_REDIRECT": "1"}, "True True"),
                            ({"BEHIND_TLS_PROXY": "1"}, "True True"),
                            ({"BEHIND_TLS_PROXY": "1", "SECURE_COOKIES": "0"}, "False False")]:
        out = subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True,
                             check=True).stdout.strip()
        assert out == expected, extra


# --- Two-factor sign-in --------------------------------------------------------------------------


def enrol(client, user) -> tuple[pyotp.TOTP, list[str]]:
    client.force_login(user)
    client.get(reverse("two_factor_enrol"))
    device = TwoFactorDevice.objects.get(user=user)
    totp = pyotp.TOTP(device.secret)
    response = client.post(reverse("two_factor_enrol"), {"code": totp.now()})
    return totp, re.findall(r"\b[0-9a-f]{6}-[0-9a-f]{6}\b", response.content.decode())


def next_code(totp: pyotp.TOTP) -> str:
    """A right code for the next 30-second step (accepted: one step of drift), unused so far."""
    return totp.at(time.time() + 30)


def test_enrolment_turns_two_factor_on_with_ten_recovery_codes(client, owner):
    totp, codes = enrol(client, owner)
    assert len(codes) == 10
    assert TwoFactorDevice.objects.get(user=owner).confirmed_at is not None
    assert RecoveryCode.objects.filter(user=owner).count() == 10
    assert codes[0] not in str(RecoveryCode.objects.values_list("code_hash", flat=True)[0])
    assert SecurityEvent.objects.filter(kind=Kind.TWO_FACTOR_ENABLED, user=owner).exists()


def test_a_wrong_code_does_not_turn_it_on(client, owner):
    client.force_login(owner)
    client.get(reverse("two_factor_enrol"))
    response = client.post(reverse("two_factor_enrol"), {"code": "000000"})
    assert "not right" in response.content.decode()
    assert not two_factor.is_enrolled(owner)


def test_sign_in_asks_for_the_code_after_the_password(owner):
    totp, _codes = enrol(Client(), owner)
    client = Client()
    response = sign_in(client, owner.email)
    assert response["Location"] == reverse("sign_in_code")
    assert not signed_in(client)  # the password alone opens nothing
    response = client.post(reverse("sign_in_code"), {"code": next_code(totp)})
    assert response.status_code == 302
    assert signed_in(client)


def test_a_code_works_only_once(owner):
    totp, _codes = enrol(Client(), owner)
    code = next_code(totp)
    first, second = Client(), Client()
    sign_in(first, owner.email)
    sign_in(second, owner.email)
    assert first.post(reverse("sign_in_code"), {"code": code}).status_code == 302
    response = second.post(reverse("sign_in_code"), {"code": code})
    assert response.status_code == 200 and "used already" in response.content.decode()
    assert not signed_in(second)


def test_of_two_checks_of_one_code_at_once_only_one_claims_it(owner):
    """The compare-and-set on last_step: both requests read the device before either wrote."""
    totp, _codes = enrol(Client(), owner)
    device = TwoFactorDevice.objects.get(user=owner)
    stale_copy = TwoFactorDevice.objects.get(user=owner)
    code = next_code(totp)
    assert two_factor.verify_code(device, code) is True
    assert two_factor.verify_code(stale_copy, code) is False


def test_a_recovery_code_works_once(owner):
    _totp, codes = enrol(Client(), owner)
    client = Client()
    sign_in(client, owner.email)
    assert client.post(reverse("sign_in_code"), {"code": codes[0].upper()}).status_code == 302
    again = Client()
    sign_in(again, owner.email)
    assert again.post(reverse("sign_in_code"), {"code": codes[0]}).status_code == 200
    assert SecurityEvent.objects.filter(kind=Kind.RECOVERY_CODE_USED, user=owner, detail__left=9).exists()


def test_wrong_codes_count_towards_the_lockout(owner):
    enrol(Client(), owner)
    client = Client()
    sign_in(client, owner.email)
    for _ in range(4):
        assert client.post(reverse("sign_in_code"), {"code": "123456"}).status_code == 200
    response = client.post(reverse("sign_in_code"), {"code": "123456"}, follow=True)
    assert "locked" in response.content.decode()
    assert not signed_in(client)


def test_the_code_step_expires(owner, monkeypatch):
    totp, _codes = enrol(Client(), owner)
    client = Client()
    sign_in(client, owner.email)
    session = client.session
    pending = session["_2fa_pending"]
    pending["at"] -= 301
    session["_2fa_pending"] = pending
    session.save()
    response = client.post(reverse("sign_in_code"), {"code": next_code(totp)})
    assert response["Location"] == reverse("login")
    assert not signed_in(client)


def test_the_code_step_does_not_redirect_off_site(owner):
    totp, _codes = enrol(Client(), owner)
    client = Client()
    client.post(reverse("login") + "?next=https://evil.example/", {"username": owner.email, "password": PASSWORD,
                                                                     "next": "https://evil.example/"})
    response = client.post(reverse("sign_in_code"), {"code": next_code(totp)})
    assert response.status_code == 302 and "evil" not in response["Location"]


def test_a_required_role_must_enrol_before_anything_else(client, admin_user, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["admin"]
    sign_in(client, admin_user.email)
    response = client.get(reverse("user_list"))
    assert response["Location"] == reverse("two_factor_enrol")
    assert client.get(reverse("two_factor_enrol")).status_code == 200
    assert client.get("/api/accounts/").status_code == 403
    device = TwoFactorDevice.objects.get(user=admin_user)
    client.post(reverse("two_factor_enrol"), {"code": pyotp.TOTP(device.secret).now()})
    assert client.get(reverse("user_list")).status_code == 200


def test_admins_must_use_two_factor_by_default():
    import crm.settings

    assert crm.settings.TWO_FACTOR_REQUIRED_ROLES == ["admin"]


def test_an_admin_requires_two_factor_for_a_role_and_its_users_are_signed_out(client, admin_user, owner, teammate):
    rep = Client()
    sign_in(rep, owner.email)
    enrolled = Client()
    enrol(enrolled, teammate)
    client.force_login(admin_user)
    client.post(reverse("security_settings"), {"role": Role.SALES_REP, "required": "1"})
    assert two_factor.is_required(owner)
    assert not signed_in(rep)
    assert signed_in(enrolled)  # already has a device: goes on working
    sign_in(rep, owner.email)
    assert rep.get(reverse("home"))["Location"] == reverse("two_factor_enrol")
    assert SecurityEvent.objects.filter(kind=Kind.TWO_FACTOR_POLICY, actor=admin_user,
                                        detail__role=Role.SALES_REP).exists()


def test_two_factor_cannot_be_turned_off_when_the_role_requires_it(client, owner, settings):
    enrol(client, owner)
    settings.TWO_FACTOR_REQUIRED_ROLES = ["sales_rep"]
    client.post(reverse("two_factor_disable"))
    assert two_factor.is_enrolled(owner)
    settings.TWO_FACTOR_REQUIRED_ROLES = []
    client.post(reverse("two_factor_disable"))
    assert not two_factor.is_enrolled(owner)


def test_an_admin_resets_a_lost_device_which_is_logged_and_signs_the_user_out(client, admin_user, owner):
    user_client = Client()
    enrol(user_client, owner)
    client.force_login(admin_user)
    client.post(reverse("user_two_factor_reset", args=[owner.pk]))
    assert not two_factor.is_enrolled(owner)
    assert not RecoveryCode.objects.filter(user=owner).exists()
    assert not signed_in(user_client)
    assert SecurityEvent.objects.filter(kind=Kind.TWO_FACTOR_RESET, user=owner, actor=admin_user).exists()


def test_new_recovery_codes_need_a_current_code(client, owner):
    totp, codes = enrol(client, owner)
    client.post(reverse("recovery_codes_new"), {"code": "000000"})
    assert two_factor.use_recovery_code(user=owner, code=codes[1])  # the old ones still work
    response = client.post(reverse("recovery_codes_new"), {"code": next_code(totp)})
    assert response.status_code == 200
    assert not two_factor.use_recovery_code(user=owner, code=codes[2])  # replaced


# --- The security log ------------------------------------------------------------------------------


def test_the_log_records_sign_ins_and_role_and_team_changes(client, owner, admin_user, other_team):
    sign_in(Client(), owner.email)
    client.force_login(admin_user)
    client.post(reverse("user_edit", args=[owner.pk]), {
        "first_name": owner.first_name, "last_name": owner.last_name, "role": Role.SALES_MANAGER,
        "team": other_team.pk})
    kinds = set(SecurityEvent.objects.filter(user=owner).values_list("kind", flat=True))
    assert {Kind.SIGN_IN, Kind.ROLE_CHANGED, Kind.TEAM_CHANGED} <= kinds
    assert SecurityEvent.objects.get(kind=Kind.ROLE_CHANGED).actor == admin_user


def test_only_admins_read_the_log_and_it_filters(client, owner, admin_user):
    sign_in(Client(), owner.email, "wrong")
    sign_in(Client(), "someone@example.com", "wrong")
    client.force_login(owner)
    assert client.get(reverse("security_log")).status_code == 403
    client.force_login(admin_user)
    page = client.get(reverse("security_log"), {"kind": Kind.SIGN_IN_FAILED, "email": owner.email}).content.decode()
    assert owner.email in page and "someone@example.com" not in page
    assert client.get(reverse("security_log"), {"ip": "'; drop table x"}).status_code == 200


def test_the_log_words_each_detail_in_the_readers_language(client, owner, admin_user, team, other_team):
    for _ in range(5):
        sign_in(Client(), owner.email, "wrong")
    client.force_login(admin_user)
    client.post(reverse("user_edit", args=[owner.pk]), {
        "first_name": owner.first_name, "last_name": owner.last_name, "role": Role.SALES_MANAGER,
        "team": other_team.pk})
    security.log(Kind.EXPORT, user=owner, target="contacts.contact", format="xlsx", job=7)
    security.log(Kind.SIGN_IN, user=owner, added_later="kept")  # a key with no wording yet is still shown
    page = client.get(reverse("security_log")).content.decode()
    lock = SecurityEvent.objects.get(kind=Kind.LOCKED)
    assert "locked until " in page and lock.detail["until"] not in page  # a date in the reader's style
    assert "wrong password" in page and "step:" not in page
    assert "Sales rep → Sales manager" in page and f"{team.name} → {other_team.name}" in page
    assert "list: Contacts" in page and "format: XLSX" in page and "export no. 7" in page
    assert "added_later: kept" in page
    admin_user.language = "ru"
    admin_user.save(update_fields=["language"])
    page = client.get(reverse("security_log")).content.decode()
    assert "неверный пароль" in page and "Менеджер по продажам → Руководитель отдела продаж" in page


def test_old_lines_are_purged_after_the_retention_period(owner, settings):
    security.log(Kind.SIGN_IN, user=owner)
    old = security.log(Kind.SIGN_IN, user=owner)
    SecurityEvent.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=settings.SECURITY_LOG_DAYS + 1))
    assert security.purge_old_events(timezone.now()) == 1
    assert SecurityEvent.objects.count() == 1


def test_the_ip_comes_from_the_proxy_only_behind_one(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
    assert security.client_ip(request) == "10.0.0.1"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert security.client_ip(request) == "5.6.7.8"


# --- The duplicate check: an oracle kept on a short leash ------------------------------------------


def test_a_duplicate_check_that_matches_a_hidden_record_is_logged(client, owner, outsider):
    from contacts.tests.factories import ContactFactory

    hidden = ContactFactory(owner=outsider, team=outsider.team, last_name="Petrova", emails=["p@example.com"])
    client.force_login(owner)
    body = client.post(reverse("duplicates_check"), {"entity": "contact", "emails": "p@example.com"}).content.decode()
    assert str(outsider) in body and "Petrova" not in body
    event = SecurityEvent.objects.get(kind=Kind.HIDDEN_DUPLICATE)
    assert event.user == owner and event.detail["matches"] == [f"contact:{hidden.pk}"]


def test_a_visible_match_is_not_logged(client, owner):
    from contacts.tests.factories import ContactFactory

    ContactFactory(owner=owner, team=owner.team, emails=["mine@example.com"])
    client.force_login(owner)
    client.post(reverse("duplicates_check"), {"entity": "contact", "emails": "mine@example.com"})
    assert not SecurityEvent.objects.filter(kind=Kind.HIDDEN_DUPLICATE).exists()


def test_duplicate_checks_are_limited_per_user_and_minute(client, owner, teammate, settings):
    from django.core.cache import cache

    cache.clear()
    settings.DUPLICATE_CHECKS_PER_MINUTE = 5
    client.force_login(owner)
    answers = [client.post(reverse("duplicates_check"), {"entity": "contact", "emails": f"x{i}@example.com"})
               for i in range(7)]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429] * 2
    assert "paused" in answers[-1].content.decode()
    htmx = client.post(reverse("duplicates_check"), {"entity": "contact"}, HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and "paused" in htmx.content.decode()
    other = Client()
    other.force_login(teammate)  # the limit is per user
    assert other.post(reverse("duplicates_check"), {"entity": "contact"}).status_code == 200


# --- What else the log records ------------------------------------------------------------------------


def test_api_token_use_is_logged_at_most_once_a_minute(owner):
    from crm.tests.api_helpers import api_for

    api = api_for(owner)
    for _ in range(3):
        assert api.get("/api/accounts/").status_code == 200
    events = SecurityEvent.objects.filter(kind=Kind.API_TOKEN_USED, user=owner)
    assert events.count() == 1
    assert events.get().detail["token"] == api.token.prefix and events.get().ip == "127.0.0.1"


def test_exports_hand_overs_and_erasures_are_logged(owner, teammate, manager, admin_user):
    from contacts.privacy import contact_erase
    from contacts.tests.factories import ContactFactory
    from crm.handover import handover_run
    from exports.services import export_start

    export_start(user=owner, target="accounts.account", query="", format="csv")
    handover_run(actor=manager, from_user=owner, to_user=teammate, kinds=["accounts"])
    contact = ContactFactory(owner=owner, team=owner.team)
    contact_erase(contact=contact, actor=admin_user)
    assert SecurityEvent.objects.get(kind=Kind.EXPORT).detail["target"] == "accounts.account"
    handover = SecurityEvent.objects.get(kind=Kind.HANDOVER)
    assert handover.user == owner and handover.actor == manager and handover.detail["to_user"] == teammate.email
    assert SecurityEvent.objects.get(kind=Kind.ERASURE).actor == admin_user
