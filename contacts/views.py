from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from contacts import duplicates, privacy, services
from contacts.forms import ContactForm
from contacts.models import Contact
from crm import custom_fields, panels
from crm.history import CHANGES_SCANNED, history_for
from crm.models import CustomFieldTarget
from crm.visibility import (
    can_edit,
    can_see,
    get_editable_or_404,
    get_visible_or_404,
    require_create,
)

HISTORY_SHOWN = 50

def contact_detail(request, pk: int):
    contact = get_visible_or_404(Contact.objects.select_related("owner", "team", "account"), request.user, pk=pk)
    history = history_for(contact, user=request.user, limit=CHANGES_SCANNED)  # History card and timeline
    context = {
        "contact": contact,
        "can_edit": can_edit(request.user, contact),
        "history": history[:HISTORY_SHOWN],
        "account_visible": bool(contact.account_id) and can_see(request.user, contact.account),
        "panels": panels.render(request, contact, {"history": history}),
        "custom_values": custom_fields.display(CustomFieldTarget.CONTACT, contact.custom),
    }
    return render(request, "contacts/contact_detail.html", context)


def _duplicates_for(form: ContactForm, user, exclude_pk=None):
    data = form.cleaned_data
    full_name = " ".join(data.get(part, "") for part in ("first_name", "middle_name", "last_name") if data.get(part))
    return duplicates.contact_duplicates(user=user, full_name=full_name, emails=data.get("emails", []),
                                         phones=data.get("phones", []), exclude_pk=exclude_pk)


def contact_create(request):
    require_create(request.user, Contact)
    initial = {}
    if request.GET.get("account", "").isdigit():
        from accounts.models import Account

        initial["account"] = Account.objects.visible_to(request.user).filter(pk=int(request.GET["account"])).first()
    form = ContactForm(request.POST or None, user=request.user, initial=initial)
    matches = []
    if request.method == "POST" and form.is_valid():
        matches = _duplicates_for(form, request.user)
        if not matches or form.cleaned_data["confirm_duplicates"]:
            contact = services.contact_create(actor=request.user, **form.model_fields())
            messages.success(request, _("Contact %(name)s was created.") % {"name": contact})
            return redirect(contact)
        messages.warning(request, _("This person may already be in the CRM. Check the matches below."))
    return render(request, "contacts/contact_form.html", {"form": form, "matches": matches})


def contact_edit(request, pk: int):
    contact = get_editable_or_404(Contact, request.user, pk=pk)
    form = ContactForm(request.POST or None, instance=contact, user=request.user)
    matches = []
    if request.method == "POST" and form.is_valid():
        matches = _duplicates_for(form, request.user, exclude_pk=contact.pk)
        changed_identity = {"emails", "phones", "first_name", "last_name"} & set(form.changed_data)
        if not matches or not changed_identity or form.cleaned_data["confirm_duplicates"]:
            services.contact_update(contact=contact, actor=request.user, **form.model_fields())
            messages.success(request, _("Contact %(name)s was saved.") % {"name": contact})
            return redirect(contact)
        messages.warning(request, _("This person may already be in the CRM. Check the matches below."))
    return render(request, "contacts/contact_form.html", {"form": form, "contact": contact, "matches": matches})


def _admin_contact(request, pk: int) -> Contact:
    """Data-subject requests are handled by administrators (docs/architecture.md)."""
    contact = get_visible_or_404(Contact, request.user, pk=pk)
    if not request.user.is_admin:
        raise PermissionDenied
    return contact


def contact_personal_data(request, pk: int):
    contact = _admin_contact(request, pk)
    response = HttpResponse(privacy.contact_data_package(contact), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="personal-data-contact-{contact.pk}.zip"'
    return response


def contact_erase(request, pk: int):
    contact = _admin_contact(request, pk)
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != str(contact.pk):
            messages.error(request, _("Type the contact's number to confirm the erasure."))
        else:
            privacy.contact_erase(contact=contact, actor=request.user)
            messages.success(request, _("The personal data was erased."))
            return redirect(contact)
    return render(request, "contacts/contact_erase.html", {"contact": contact})


def contact_delete(request, pk: int):
    contact = get_editable_or_404(Contact, request.user, pk=pk)
    if request.method == "POST":
        services.contact_delete(contact=contact, actor=request.user)
        messages.success(request, _("Contact %(name)s was deleted.") % {"name": contact})
        return redirect("contacts:list")
    return render(request, "contacts/contact_confirm_delete.html", {"contact": contact})
