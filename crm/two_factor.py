"""Two-factor sign-in: an authenticator app (TOTP, RFC 6238, 30-second codes) and single-use
recovery codes.

Anyone may turn it on in their profile; an admin can require it per role (admins by default,
TWO_FACTOR_REQUIRED_ROLES) and reset it for a user who lost their phone. Each accepted code moves
the device's `last_step` forward with a compare-and-set UPDATE, so a code (or an older one) is
accepted once even by two requests at the same moment. Every change is in the security log.
"""

import hashlib
import secrets
import time

import pyotp
import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from crm import security
from crm.models import RecoveryCode, Role, RoleSecurity, SecurityEventKind, TwoFactorDevice, User, UserSession

STEP = 30  # seconds per code
DRIFT = 1  # steps accepted either side of now: a phone clock 30 s off still works
RECOVERY_CODES = 10


def _digest(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").replace(" ", "").encode()).hexdigest()


def is_enrolled(user: User) -> bool:
    return TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def is_required(user: User) -> bool:
    choice = RoleSecurity.objects.filter(role=user.role).values_list("two_factor_required", flat=True).first()
    if choice is None:
        return user.role in settings.TWO_FACTOR_REQUIRED_ROLES
    return choice


def required_roles() -> dict[str, bool]:
    """Every role with whether it must use two-factor sign-in now."""
    chosen = dict(RoleSecurity.objects.values_list("role", "two_factor_required"))
    return {role: chosen.get(role, role in settings.TWO_FACTOR_REQUIRED_ROLES) for role in Role.values}


# --- Enrolment ---------------------------------------------------------------------------


def device_start(*, user: User) -> TwoFactorDevice:
    """A new secret for a user who is not enrolled yet (a half-done enrolment is replaced)."""
    TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=True).delete()
    return TwoFactorDevice.objects.create(user=user, secret=pyotp.random_base32())


def provisioning_uri(device: TwoFactorDevice) -> str:
    return pyotp.TOTP(device.secret, interval=STEP).provisioning_uri(
        name=device.user.email, issuer_name=settings.TWO_FACTOR_ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup (no image request, nothing for the CSP to allow)."""
    return segno.make(uri, error="m").svg_inline(scale=4, dark="#212529", light="#ffffff")


@transaction.atomic
def device_confirm(*, user: User, code: str, request: HttpRequest | None = None) -> list[str] | None:
    """Turns two-factor sign-in on once the user typed a right code; returns the recovery codes
    (shown once), or None when the code is wrong."""
    device = TwoFactorDevice.objects.select_for_update().filter(user=user, confirmed_at__isnull=True).first()
    if device is None or not verify_code(device, code):
        return None
    TwoFactorDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
    security.log(SecurityEventKind.TWO_FACTOR_ENABLED, request=request, user=user)
    return recovery_codes_new(user=user)


def recovery_codes_new(*, user: User) -> list[str]:
    """Replaces the user's recovery codes with ten new ones; only their digests are stored."""
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create([RecoveryCode(user=user, code_hash=_digest(code)) for code in codes])
    return codes


# --- Checking a code at sign-in ---------------------------------------------------------


def verify_code(device: TwoFactorDevice, code: str, now: float | None = None) -> bool:
    """True for a right code not used before. The accepted step is claimed with a compare-and-set
    UPDATE (`last_step` only moves forward), so a code cannot be replayed."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    now = time.time() if now is None else now
    totp = pyotp.TOTP(device.secret, interval=STEP)
    current = int(now // STEP)
    for step in range(current - DRIFT, current + DRIFT + 1):
        if secrets.compare_digest(totp.at(step * STEP), code):
            claimed = TwoFactorDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step)
            return claimed == 1
    return False


def use_recovery_code(*, user: User, code: str, request: HttpRequest | None = None) -> bool:
    used = RecoveryCode.objects.filter(user=user, code_hash=_digest(code), used_at__isnull=True) \
        .update(used_at=timezone.now())
    if used:
        left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
        security.log(SecurityEventKind.RECOVERY_CODE_USED, request=request, user=user, left=left)
    return bool(used)


def check_sign_in_code(*, user: User, code: str, request: HttpRequest | None = None) -> bool:
    """The second step of sign-in: an authenticator code, or a recovery code."""
    device = TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is None:
        return False
    if verify_code(device, code):
        return True
    return use_recovery_code(user=user, code=code, request=request)


# --- Turning it off ------------------------------------------------------------------------


@transaction.atomic
def disable(*, user: User, request: HttpRequest | None = None) -> None:
    TwoFactorDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    security.log(SecurityEventKind.TWO_FACTOR_DISABLED, request=request, user=user)


@transaction.atomic
def reset_by_admin(*, user: User, actor: User, request: HttpRequest | None = None) -> None:
    """A user lost their phone and their recovery codes: an admin removes the device and ends the
    user's sessions. If their role requires two-factor sign-in, they enrol again at next sign-in."""
    TwoFactorDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    UserSession.end_all_for(user)
    security.log(SecurityEventKind.TWO_FACTOR_RESET, request=request, user=user, actor=actor)


@transaction.atomic
def policy_set(*, role: str, required: bool, actor: User, request: HttpRequest | None = None) -> int:
    """An admin's rule for a role. Turning it on signs out the role's users who have no
    authenticator yet, so the rule holds from their next request; returns how many were signed out."""
    before = required_roles()[role]
    RoleSecurity.objects.update_or_create(role=role, defaults={"two_factor_required": required})
    if before == required:
        return 0
    security.log(SecurityEventKind.TWO_FACTOR_POLICY, request=request, actor=actor, role=role, required=required)
    if not required:
        return 0
    signed_out = 0
    for user in User.objects.filter(role=role, is_active=True).exclude(two_factor__confirmed_at__isnull=False):
        if user.pk != actor.pk:
            signed_out += bool(UserSession.end_all_for(user))
    return signed_out
