"""Sign-in with lockout and two-factor codes, the user's own security page, and the admin's
security settings, log, unlock and two-factor reset. The rules live in crm/security.py and
crm/two_factor.py; these views only parse, call and render."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.sessions.models import Session
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from crm import security, security_details, two_factor
from crm.forms import EnrolForm, ResetRequestForm, SignInCodeForm, SignInForm, locked_message
from crm.models import Role, SecurityEvent, SecurityEventKind, TwoFactorDevice, User, UserSession
from crm.pagination import paginate
from crm.views import admin_required

PENDING = "_2fa_pending"  # session key: a user who gave the right password and owes a code
PENDING_SECONDS = 300
MARK = "_2fa"  # session key: "ok", or "enrol" when the user's role requires a device they lack


# --- Sign-in ----------------------------------------------------------------------------------


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.is_enrolled(user):
            self.request.session[PENDING] = {"user": user.pk, "at": time.time(), "next": self.get_success_url()}
            return HttpResponseRedirect(reverse("sign_in_code"))
        response = super().form_valid(form)  # crm/signals.py marks whether the session must enrol first
        security.signed_in(user, self.request)
        return response


@login_not_required
@never_cache
def sign_in_code(request):
    """The second step: the right password was given; now a code from the app or a recovery code."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        messages.info(request, _("Sign in again: the code was not entered in time."))
        return redirect("login")
    user = get_object_or_404(get_user_model(), pk=pending["user"], is_active=True)
    form = SignInCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lock = security.sign_in_lock(user.email, request)
        if lock is None and two_factor.check_sign_in_code(user=user, code=form.cleaned_data["code"], request=request):
            del request.session[PENDING]
            login(request, user, backend="crm.backends.EmailBackend")
            security.signed_in(user, request, two_factor=True)
            # LoginView checked `next` already; it is checked again where it is followed.
            next_url = pending.get("next") or ""
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
                next_url = reverse("home")
            return redirect(next_url)
        lock = lock or security.sign_in_failed(user.email, request, step="code")
        if lock is not None:
            request.session.pop(PENDING, None)
            messages.error(request, locked_message(lock))
            return redirect("login")
        form.add_error("code", _("That code is not right, or it was used already."))
    return render(request, "registration/sign_in_code.html", {"form": form})


class PasswordChangeView(auth_views.PasswordChangeView):
    """A new password ends the user's other sessions (this one goes on)."""

    def form_valid(self, form):
        response = super().form_valid(form)
        key = self.request.session.session_key
        UserSession.objects.get_or_create(session_key=key, defaults={"user": self.request.user})
        UserSession.end_all_for(self.request.user, keep=key)
        security.log(SecurityEventKind.PASSWORD_CHANGED, request=self.request, user=self.request.user)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetRequestForm

    @property
    def extra_email_context(self):  # the product's name in the e-mail's subject and text
        return {"app_name": settings.APP_NAME}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A password set through a reset link ends every session of the user and starts the lockout
    count again (an admin-free way out of a lockout that is not the attacker's)."""

    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        UserSession.end_all_for(form.user)
        security.log(SecurityEventKind.PASSWORD_CHANGED, request=self.request, user=form.user, via="reset")
        security.log(SecurityEventKind.UNLOCKED, request=self.request, user=form.user, via="reset")
        return response


# --- The user's own security page -------------------------------------------------------------


def profile_security(request):
    user = request.user
    device = TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    events = SecurityEvent.objects.filter(user=user).select_related("actor")[:15]
    return render(request, "crm/security/profile_security.html", {
        "device": device, "required": two_factor.is_required(user), "events": events,
        "codes_left": user.recovery_codes.filter(used_at__isnull=True).count() if device else 0,
        "sessions": Session.objects.filter(expire_date__gt=timezone.now(), session_key__in=UserSession.objects.filter(
            user=user).values("session_key")).count(),
    })


@never_cache
def two_factor_enrol(request):
    """Scan the QR code, type the first code: two-factor sign-in is on, and the recovery codes
    are shown once."""
    user = request.user
    if two_factor.is_enrolled(user):
        return redirect("profile_security")
    device = TwoFactorDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if device is None or request.method == "GET" and "new" in request.GET:
        device = two_factor.device_start(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.device_confirm(user=user, code=form.cleaned_data["code"], request=request)
        if codes is not None:
            request.session[MARK] = "ok"
            return render(request, "crm/security/recovery_codes.html", {"codes": codes, "first": True})
        form.add_error("code", _("That code is not right. Check the time on your phone and type the newest code."))
    uri = two_factor.provisioning_uri(device)
    return render(request, "crm/security/enrol.html", {
        "form": form, "qr": two_factor.qr_svg(uri), "secret": device.secret,
        "required": request.session.get(MARK) == "enrol",
    })


@require_POST
@never_cache
def recovery_codes_new(request):
    form = SignInCodeForm(request.POST)
    if not two_factor.is_enrolled(request.user):
        return redirect("profile_security")
    if not form.is_valid() or not two_factor.check_sign_in_code(user=request.user, code=form.cleaned_data["code"],
                                                                request=request):
        messages.error(request, _("Type a current code from your app to get new recovery codes."))
        return redirect("profile_security")
    codes = two_factor.recovery_codes_new(user=request.user)
    return render(request, "crm/security/recovery_codes.html", {"codes": codes, "first": False})


@require_POST
def two_factor_disable(request):
    if two_factor.is_required(request.user):
        messages.error(request, _("Your role requires two-factor sign-in, so it cannot be turned off."))
    else:
        two_factor.disable(user=request.user, request=request)
        messages.success(request, _("Two-factor sign-in is off."))
    return redirect("profile_security")


@require_POST
def sign_out_everywhere(request):
    """Ends every session of the user, on every device, this one included."""
    user = request.user
    ended = UserSession.end_all_for(user)
    security.log(SecurityEventKind.SIGNED_OUT_EVERYWHERE, request=request, user=user, sessions=ended)
    request.session.flush()
    messages.success(request, _("You were signed out everywhere."))
    return redirect("login")


# --- Administration ---------------------------------------------------------------------------


@admin_required
def security_settings(request):
    if request.method == "POST":
        role = request.POST.get("role", "")
        if role in Role.values:
            required = request.POST.get("required") == "1"
            signed_out = two_factor.policy_set(role=role, required=required, actor=request.user, request=request)
            label = Role(role).label
            if required:
                text = ngettext("%(role)s must now use two-factor sign-in; %(count)d user without it was signed "
                                "out and will set it up at the next sign-in.",
                                "%(role)s must now use two-factor sign-in; %(count)d users without it were signed "
                                "out and will set it up at the next sign-in.", signed_out)
                if request.user.role == role and not two_factor.is_enrolled(request.user):
                    request.session[MARK] = "enrol"
            else:
                text = _("%(role)s may now sign in without two-factor sign-in.")
            messages.success(request, text % {"role": label, "count": signed_out})
        return redirect("security_settings")
    roles = [(role, Role(role).label, required) for role, required in two_factor.required_roles().items()]
    return render(request, "crm/security/settings.html", {"roles": roles})


@admin_required
def security_log(request):
    events = SecurityEvent.objects.select_related("user", "actor")
    kind = request.GET.get("kind", "")
    if kind in SecurityEventKind.values:
        events = events.filter(kind=kind)
    email = request.GET.get("email", "").strip().lower()[:254]
    if email:
        events = events.filter(email__startswith=email)
    ip = request.GET.get("ip", "").strip()[:45]
    if ip:
        events = events.filter(ip__startswith=ip) if _looks_like_ip(ip) else events.none()
    page = paginate(events.order_by("-at", "-id"), request.GET.get("page"), per_page=50)
    security_details.describe_all(page.rows)
    return render(request, "crm/security/log.html", {
        "page": page, "kinds": SecurityEventKind.choices, "kind": kind, "email": email, "ip": ip,
    })


def _looks_like_ip(text: str) -> bool:
    return all(ch in "0123456789abcdefABCDEF.:" for ch in text)


@admin_required
@require_POST
def user_unlock(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    security.unlock(user=person, actor=request.user, request=request)
    messages.success(request, _("%(user)s can sign in again.") % {"user": person})
    return redirect("user_edit", pk=person.pk)


@admin_required
@require_POST
def user_two_factor_reset(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    two_factor.reset_by_admin(user=person, actor=request.user, request=request)
    messages.success(request, _("Two-factor sign-in of %(user)s was reset; they were signed out.") % {"user": person})
    return redirect("user_edit", pk=person.pk)
