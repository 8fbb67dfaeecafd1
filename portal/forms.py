from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.utils.translation import gettext_lazy as _

from portal.services import MAX_COMMENT
from service.forms import MultipleFileField
from service.models import Category

RATINGS = [(5, _("5 — excellent")), (4, _("4 — good")), (3, _("3 — fair")), (2, _("2 — poor")), (1, _("1 — very poor"))]
# What a customer may file a ticket as (the desk re-categorises if needed).
PORTAL_CATEGORIES = [(value, label) for value, label in Category.choices]


class SignInForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email",
                                                                                        "autofocus": True}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class PasswordForm(forms.Form):
    password1 = forms.CharField(label=_("New password"), strip=False, help_text=password_validators_help_text_html(),
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("The new password again"), strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                validate_password(first)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


class ResetRequestForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class PortalTicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=250)
    description = forms.CharField(label=_("What happened?"), widget=forms.Textarea(attrs={"rows": 6}),
                                  max_length=20000)
    category = forms.ChoiceField(label=_("Kind of request"), choices=PORTAL_CATEGORIES, initial=Category.QUESTION)
    files = MultipleFileField(label=_("Attachments"), help_text=_("PDF, PNG, JPEG, DOCX or XLSX, up to 10 MB each."))


class PortalReplyForm(forms.Form):
    body = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=20000)
    files = MultipleFileField(label=_("Attachments"), help_text=_("PDF, PNG, JPEG, DOCX or XLSX, up to 10 MB each."))


class SurveyForm(forms.Form):
    rating = forms.TypedChoiceField(label=_("How satisfied are you with how we handled your request?"),
                                    choices=RATINGS, coerce=int, widget=forms.RadioSelect,
                                    error_messages={"required": _("Choose a rating from 1 to 5.")})
    comment = forms.CharField(label=_("Anything you would like to add? (optional)"), required=False,
                              max_length=MAX_COMMENT, widget=forms.Textarea(attrs={"rows": 3}))
