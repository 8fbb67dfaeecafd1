"""API tokens in the browser: each user manages their own on /profile/tokens/; admins see and
revoke everyone's on /admin-tools/tokens/. The key is shown once, in the answer to the POST
that created it (never stored, never put in a session or a URL)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from crm.api import tokens
from crm.models import ApiToken
from crm.pagination import paginate
from crm.views import admin_required


class TokenForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Token name"), max_length=100,
                           help_text=gettext_lazy("What will use it, e.g. “Accounting sync”."))


@never_cache  # the answer that shows a new key must not stay in any cache
def token_list(request):
    form = TokenForm(request.POST or None)
    new_key = new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            new_token, new_key = tokens.api_token_create(user=request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Token “%(name)s” was created.") % {"name": new_token.name})
            form = TokenForm()
    user_tokens = ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at", "-id")
    return render(request, "crm/tokens.html", {
        "form": form, "tokens": user_tokens, "new_key": new_key, "new_token": new_token,
    })


@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # someone else's token: 404
    tokens.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("api_tokens")


@admin_required
def admin_token_list(request):
    queryset = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    if request.GET.get("status") == "active":
        queryset = queryset.filter(revoked_at__isnull=True)
    page = paginate(queryset, request.GET.get("page"))
    return render(request, "crm/admin/api_tokens.html", {"page": page, "status": request.GET.get("status", "")})


@admin_required
@require_POST
def admin_token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken.objects.select_related("user"), pk=pk)
    tokens.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token “%(name)s” of %(user)s was revoked.") % {"name": token.name,
                                                                               "user": token.user})
    return redirect("admin_api_tokens")
