"""The security log and the limits built on it: sign-in lockout, the password-reset limit and the
duplicate-check limit.

Every line goes through `log()`. Failed sign-ins are counted from the log itself, per address (as
typed, whether or not an account has it, so the lockout tells nobody which addresses exist) and per
IP. While an address or an IP is locked the password is not even checked: a locked account lets
no guess through, so at most SIGNIN_LOCKOUT_FAILURES guesses get through per lockout window (20 an
hour with the defaults). A successful sign-in or an admin's unlock starts the count again.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone

from crm.models import SecurityEvent, SecurityEventKind, User
from crm.scheduler import source

Kind = SecurityEventKind


def client_ip(request: HttpRequest | None) -> str | None:
    """The address the request came from. Behind a TLS proxy (BEHIND_TLS_PROXY) the proxy's
    X-Forwarded-For is trusted for its last hop only, which the proxy itself wrote."""
    if request is None:
        return None
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def log(kind: str, *, request: HttpRequest | None = None, user: User | None = None, actor: User | None = None,
        email: str = "", **detail: object) -> SecurityEvent:
    """Writes one line. `user` is whom it concerns, `actor` who did it when that is someone else;
    `actor` defaults to the signed-in user of the request."""
    if actor is None and request is not None and getattr(request, "user", None) is not None \
            and request.user.is_authenticated:
        actor = request.user
    if actor is not None and user is not None and actor.pk == user.pk:
        actor = None
    if not email and user is not None:
        email = user.email
    return SecurityEvent.objects.create(at=timezone.now(), kind=kind, user=user, actor=actor,
                                        email=email.strip().lower()[:254],
                                        ip=client_ip(request), detail=detail)


# --- Sign-in lockout ------------------------------------------------------------------------


@dataclass(frozen=True)
class Lock:
    until: datetime
    by_ip: bool


def _window() -> timedelta:
    return timedelta(minutes=settings.SIGNIN_LOCKOUT_MINUTES)


def lock_for_address(email: str, now: datetime | None = None) -> Lock | None:
    """Locked while the last SIGNIN_LOCKOUT_FAILURES failures since the last success or unlock
    all fall within one window; the lock ends a window after the last of them."""
    now = now or timezone.now()
    email = email.strip().lower()
    if not email:
        return None
    limit = settings.SIGNIN_LOCKOUT_FAILURES
    reset = (SecurityEvent.objects.filter(email=email, kind__in=[Kind.SIGN_IN, Kind.UNLOCKED])
             .order_by("-at").values_list("at", flat=True).first())
    failures = SecurityEvent.objects.filter(email=email, kind=Kind.SIGN_IN_FAILED, at__gt=now - 2 * _window())
    if reset is not None:
        failures = failures.filter(at__gt=reset)
    times = list(failures.order_by("-at").values_list("at", flat=True)[:limit])
    if len(times) < limit or times[0] - times[-1] > _window():
        return None
    until = times[0] + _window()
    return Lock(until=until, by_ip=False) if until > now else None


def lock_for_ip(ip: str | None, now: datetime | None = None) -> Lock | None:
    """An IP that failed SIGNIN_IP_FAILURES times within a window (any addresses) is refused until
    the oldest of those failures leaves the window."""
    if not ip:
        return None
    now = now or timezone.now()
    limit = settings.SIGNIN_IP_FAILURES
    times = list(SecurityEvent.objects.filter(kind=Kind.SIGN_IN_FAILED, ip=ip, at__gt=now - _window())
                 .order_by("-at").values_list("at", flat=True)[:limit])
    if len(times) < limit:
        return None
    return Lock(until=times[-1] + _window(), by_ip=True)


def sign_in_lock(email: str, request: HttpRequest | None) -> Lock | None:
    return lock_for_address(email) or lock_for_ip(client_ip(request))


def sign_in_failed(email: str, request: HttpRequest | None, *, step: str = "password") -> Lock | None:
    """Records a wrong password (or a wrong two-factor code); returns the lock it caused, if any."""
    email = email.strip().lower()
    user = User.objects.filter(email__iexact=email).first() if email else None
    log(Kind.SIGN_IN_FAILED, request=request, user=user, email=email, step=step)
    lock = lock_for_address(email)
    if lock is not None:
        log(Kind.LOCKED, request=request, user=user, email=email, until=lock.until.isoformat(timespec="minutes"))
    return lock


def signed_in(user: User, request: HttpRequest | None, **detail: object) -> None:
    log(Kind.SIGN_IN, request=request, user=user, **detail)


def unlock(*, user: User, actor: User, request: HttpRequest | None = None) -> None:
    log(Kind.UNLOCKED, request=request, user=user, actor=actor)


def locked_addresses(emails: list[str]) -> dict[str, datetime]:
    """For the user list: which of these addresses are locked now, and until when. One query to find
    the candidates (enough recent failures), then the exact rule for each of those few."""
    now = timezone.now()
    candidates = (SecurityEvent.objects.filter(kind=Kind.SIGN_IN_FAILED, at__gt=now - _window(),
                                               email__in=[e.lower() for e in emails])
                  .values("email").annotate(n=Count("id")).filter(n__gte=settings.SIGNIN_LOCKOUT_FAILURES))
    locks = {}
    for row in candidates:
        lock = lock_for_address(row["email"], now)
        if lock is not None:
            locks[row["email"]] = lock.until
    return locks


# --- Password reset and the duplicate check: limits per address / per user ------------------------


def password_reset_allowed(email: str, request: HttpRequest | None, **detail: object) -> bool:
    """At most PASSWORD_RESET_PER_HOUR reset e-mails per address and three times that per IP in an
    hour. The request is logged either way; the answer page is the same either way."""
    email = email.strip().lower()
    hour_ago = timezone.now() - timedelta(hours=1)
    per_address = settings.PASSWORD_RESET_PER_HOUR
    recent = SecurityEvent.objects.filter(kind=Kind.PASSWORD_RESET_REQUESTED, at__gt=hour_ago)
    ip = client_ip(request)
    allowed = (recent.filter(email=email, detail__sent=True).count() < per_address
               and (ip is None or recent.filter(ip=ip).count() < 3 * per_address))
    log(Kind.PASSWORD_RESET_REQUESTED, request=request, email=email, sent=allowed, **detail)
    return allowed


def duplicate_check_allowed(user: User) -> bool:
    """At most DUPLICATE_CHECKS_PER_MINUTE checks per user and minute. Counted in the cache: when
    the cache is down the check is allowed (it is a convenience, and hidden matches are still
    logged)."""
    key = f"dupcheck:{user.pk}:{int(timezone.now().timestamp() // 60)}"
    try:
        cache.add(key, 0, 90)
        count = cache.incr(key)
    except Exception:  # noqa: BLE001 - a cache that is down must not stop data entry
        return True
    return count <= settings.DUPLICATE_CHECKS_PER_MINUTE


# --- Retention ------------------------------------------------------------------------------


@source("security_log_retention")
def purge_old_events(now: datetime) -> int:
    """Keeps SECURITY_LOG_DAYS of the log. Runs with every tick; deletes in bounded batches."""
    cutoff = now - timedelta(days=settings.SECURITY_LOG_DAYS)
    ids = list(SecurityEvent.objects.filter(at__lt=cutoff).order_by("at").values_list("id", flat=True)[:5000])
    if not ids:
        return 0
    SecurityEvent.objects.filter(id__in=ids).delete()
    return len(ids)
