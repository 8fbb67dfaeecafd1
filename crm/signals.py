from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from crm.models import UserSession


@receiver(user_logged_in)
def remember_session(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        from crm import two_factor
        from crm.security_views import MARK

        # Whether this session must enrol in two-factor sign-in first (crm.middleware.TwoFactorRequiredMiddleware).
        needs_device = two_factor.is_required(user) and not two_factor.is_enrolled(user)
        request.session[MARK] = "enrol" if needs_device else "ok"
        if request.session.session_key:
            UserSession.objects.get_or_create(session_key=request.session.session_key, defaults={"user": user})
