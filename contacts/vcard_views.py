"""vCard import (upload a .vcf) and export (download the contacts the user may see)."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Account
from contacts.models import Contact
from contacts.services_vcard import contacts_import_vcard
from contacts.vcard import MAX_BYTES, MAX_CARDS, VERSIONS, VCardError, contacts_to_vcard
from crm.visibility import require_create

EXTENSIONS = (".vcf", ".vcard")
MAX_ID = 2**63 - 1


class VCardUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("vCard file"),
        help_text=gettext_lazy("A .vcf file exported from a phone, Apple Contacts, Google Contacts or Outlook "
                               "(vCard 2.1, 3.0 or 4.0), up to 10 MB and 10,000 contacts."),
        widget=forms.ClearableFileInput(attrs={"accept": ".vcf,.vcard,text/vcard,text/x-vcard"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(EXTENSIONS):
            raise forms.ValidationError(_("Choose a vCard file: its name ends with .vcf."))
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB. Split it into smaller files.") % {"size": MAX_BYTES // 2**20}
            )
        return upload


@require_http_methods(["GET", "POST"])
def vcard_import(request):
    require_create(request.user, Contact)
    form = VCardUploadForm(request.POST, request.FILES) if request.method == "POST" else VCardUploadForm()
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = contacts_import_vcard(actor=request.user, data=form.cleaned_data["file"].read(MAX_BYTES + 1))
        except VCardError as error:
            form.add_error("file", str(error))
        else:
            if report.created:
                messages.success(request, ngettext("%(count)d contact was imported.",
                                                   "%(count)d contacts were imported.", report.created)
                                 % {"count": report.created})
            if report.failed:
                messages.warning(request, ngettext("%(count)d card could not be imported.",
                                                   "%(count)d cards could not be imported.", report.failed)
                                 % {"count": report.failed})
            form = VCardUploadForm()
    return render(request, "contacts/vcard_import.html", {"form": form, "report": report})


@require_GET
def vcard_export(request):
    version = request.GET.get("version") or "4.0"
    if version not in VERSIONS:
        return _bad_request(_("Unknown vCard version “%(version)s”: choose 3.0 or 4.0.") % {"version": version})
    try:
        ids = _parse_ids(request.GET.getlist("ids"))
    except ValueError as error:
        return _bad_request(str(error))

    contacts = Contact.objects.visible_to(request.user)
    if ids is not None:
        contacts = contacts.filter(pk__in=ids)
    contacts = list(contacts.order_by("last_name", "first_name", "id")[:MAX_CARDS])
    # A contact may point at an account its reader may not see: then its name stays out of the file.
    account_ids = {contact.account_id for contact in contacts if contact.account_id}
    account_names = dict(
        Account.objects.visible_to(request.user).filter(pk__in=account_ids).values_list("id", "name")
    ) if account_ids else {}

    body = contacts_to_vcard(contacts, version, account_names=account_names)
    response = HttpResponse(body.encode("utf-8"), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, _filename(contacts))
    response["Cache-Control"] = "private, no-store"
    return response


def _parse_ids(values: list[str]) -> list[int] | None:
    """`?ids=1,2,3` (or repeated `ids=`) as a list; None when no ids were given (= everything visible)."""
    tokens = [token.strip() for value in values for token in value.split(",") if token.strip()]
    if not tokens:
        return None
    if len(tokens) > MAX_CARDS:
        raise ValueError(_("At most %(limit)d contacts can be exported at once.") % {"limit": MAX_CARDS})
    ids = []
    for token in tokens:
        if not token.isascii() or not token.isdigit():
            raise ValueError(_("“%(value)s” is not a contact number.") % {"value": token[:20]})
        if int(token) <= MAX_ID:  # a larger number cannot be a primary key (and PostgreSQL would refuse it)
            ids.append(int(token))
    return ids


def _filename(contacts: list[Contact]) -> str:
    if len(contacts) == 1:
        return f"{slugify(str(contacts[0]), allow_unicode=True) or 'contact'}.vcf"
    return f"contacts-{timezone.localdate():%Y-%m-%d}.vcf"


def _bad_request(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
