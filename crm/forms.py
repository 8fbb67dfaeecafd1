from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm import translated
from crm.models import CustomField, CustomFieldKind, Role, Team, Territory, User
from crm.translated import TranslationsFormMixin


class InviteUserForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SALES_REP)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    territories = forms.ModelMultipleChoiceField(
        label=_("Territories"), queryset=Territory.objects.select_related("parent"), required=False
    )

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("A user with this e-mail address already exists."))
        return email


class UserEditForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "role", "team", "territories"]


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "manager", "country"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["manager"].queryset = User.objects.filter(is_active=True)


class TerritoryForm(TranslationsFormMixin, forms.ModelForm):
    class Meta:
        model = Territory
        fields = ["name", "parent"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_translation_fields()

    def clean_parent(self):
        parent = self.cleaned_data["parent"]
        node = parent
        while node is not None and self.instance.pk:
            if node.pk == self.instance.pk:
                raise forms.ValidationError(_("A territory cannot be placed inside itself."))
            node = node.parent
        return parent


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "phone", "time_zone", "language", "phone_region"]


class CustomFieldForm(TranslationsFormMixin, forms.ModelForm):
    translated_field = "label"

    class Meta:
        model = CustomField
        fields = ["target", "label", "key", "kind", "choices", "required", "filterable", "position", "active"]
        widgets = {"choices": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # stored values are keyed by it: it never changes
            for name in ("target", "key", "kind"):
                self.fields[name].disabled = True
        self.add_translation_fields()
        stored = self.instance.choice_translations or {}
        for code, name in translated.languages():
            field_name = f"choices_{code}"
            self.fields[field_name] = forms.CharField(
                label=_("Options in %(language)s") % {"language": name}, required=False, strip=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("One per line, in the same order as the options above; an empty line keeps that "
                            "option as typed."))
            self.initial.setdefault(field_name, "\n".join(stored.get(code, [])))

    def clean(self):
        data = super().clean()
        options = [c.strip() for c in data.get("choices", "").splitlines() if c.strip()]
        if data.get("kind") == CustomFieldKind.CHOICE and not options:
            self.add_error("choices", _("A choice field needs at least one option."))
        for code, _name in translated.languages():
            names = [line.strip() for line in (data.get(f"choices_{code}") or "").splitlines()]
            while names and not names[-1]:
                names.pop()
            if len(names) > len(options):
                self.add_error(f"choices_{code}", _("There are %(names)d names for %(options)d options: give one "
                                                    "per option, in the same order.")
                               % {"names": len(names), "options": len(options)})
            data[f"choices_{code}"] = names
        return data

    def _post_clean(self):
        super()._post_clean()
        self.instance.choice_translations = {
            code: self.cleaned_data.get(f"choices_{code}") for code, _name in translated.languages()
            if any(self.cleaned_data.get(f"choices_{code}") or [])}


def add_service_errors(form, error) -> None:
    """A service's ValidationError shown on the form: per field where the form has the field, else on
    top. One place for every view that calls a write service with a form's data."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Sign-in: lockout and two-factor -------------------------------------------------------


def locked_message(lock) -> str:
    from math import ceil

    from django.utils import timezone

    minutes = max(1, ceil((lock.until - timezone.now()).total_seconds() / 60))
    if lock.by_ip:
        text = ngettext("Too many failed sign-ins from your network. Try again in %(minutes)d minute.",
                        "Too many failed sign-ins from your network. Try again in %(minutes)d minutes.", minutes)
    else:
        text = ngettext("Too many failed sign-ins: this account is locked. Try again in %(minutes)d minute, "
                        "or ask an administrator to unlock it.",
                        "Too many failed sign-ins: this account is locked. Try again in %(minutes)d minutes, "
                        "or ask an administrator to unlock it.", minutes)
    return text % {"minutes": minutes}


class SignInForm(AuthenticationForm):
    """Django's sign-in form with the lockout (crm/security.py): a locked address or IP is refused
    before the password is checked, so even the right password is refused while locked."""

    def clean(self):
        from crm import security

        email = self.data.get("username", "") or ""
        lock = security.sign_in_lock(email, self.request)
        if lock is not None:
            raise forms.ValidationError(locked_message(lock), code="locked")
        try:
            return super().clean()
        except forms.ValidationError as error:
            if email and self.data.get("password"):
                lock = security.sign_in_failed(email, self.request)
                if lock is not None:
                    raise forms.ValidationError(locked_message(lock), code="locked") from error
            raise


class SignInCodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=20, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text=_("The six digits from your authenticator app, or one of your recovery codes."))


class EnrolForm(forms.Form):
    code = forms.CharField(label=_("Code from the app"), max_length=10, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}))


class ResetRequestForm(PasswordResetForm):
    """At most PASSWORD_RESET_PER_HOUR e-mails per address (crm/security.py). The page that follows
    is the same whether a mail went out or not."""

    def save(self, *args, request=None, **kwargs):
        from crm import security

        if security.password_reset_allowed(self.cleaned_data["email"], request):
            super().save(*args, request=request, **kwargs)
