"""The desk's set-up: queues, SLA policies, business calendars, escalation rules, field skills and canned
responses.
The desk reads it; the support lead and admins change it (SERVICE_SETUP)."""

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.db.models import ProtectedError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from crm.visibility import can_create, can_read, require_create, require_read
from service import forms, imap
from service.models import (
    ArticleCategory,
    BusinessCalendar,
    CannedResponse,
    EscalationRule,
    ImapMailbox,
    Queue,
    Skill,
    SlaPolicy,
    SpecialistHours,
)


@dataclass(frozen=True)
class Kind:
    key: str
    model: type
    form: type
    title: Any
    new_label: Any
    columns: tuple[tuple[Any, str], ...]
    related: tuple[str, ...] = ()
    prefetch: tuple[str, ...] = ()


KINDS = {kind.key: kind for kind in (
    Kind("queues", Queue, forms.QueueForm, gettext_lazy("Queues"), gettext_lazy("New queue"),
         ((gettext_lazy("Name"), "name"), (pgettext_lazy("queue", "Lead"), "lead"),
          (pgettext_lazy("queue", "Assignment"), "get_assignment_display"), (gettext_lazy("Default"), "is_default")),
         ("lead",)),
    Kind("sla", SlaPolicy, forms.SlaPolicyForm, gettext_lazy("SLA policies"), gettext_lazy("New SLA policy"),
         ((gettext_lazy("Name"), "name"), (gettext_lazy("Priority"), "get_priority_display"),
          (gettext_lazy("Tier"), "account_tier"), (gettext_lazy("First response, min"), "first_response_minutes"),
          (gettext_lazy("Resolution, min"), "resolution_minutes"), (gettext_lazy("Business hours"), "calendar"),
          (gettext_lazy("Active"), "is_active")), ("calendar",)),
    Kind("calendars", BusinessCalendar, forms.CalendarForm, gettext_lazy("Business hours"),
         gettext_lazy("New calendar"),
         ((gettext_lazy("Name"), "name"), (gettext_lazy("Time zone"), "time_zone"),
          (gettext_lazy("Opens"), "opens_at"), (gettext_lazy("Closes"), "closes_at"),
          (gettext_lazy("24 × 7"), "around_the_clock"))),
    Kind("escalation", EscalationRule, forms.EscalationRuleForm, gettext_lazy("Escalation rules"),
         gettext_lazy("New rule"),
         ((gettext_lazy("SLA policy"), "policy"), (gettext_lazy("When the SLA"), "get_event_display"),
          (gettext_lazy("Tell"), "get_notify_display"), (gettext_lazy("Person"), "user"),
          (gettext_lazy("Raise priority to"), "get_raise_priority_to_display")), ("policy", "user")),
    Kind("article-categories", ArticleCategory, forms.ArticleCategoryForm, gettext_lazy("Article categories"),
         gettext_lazy("New category"), ((gettext_lazy("Name"), "name"),)),
    Kind("skills", Skill, forms.SkillForm, gettext_lazy("Field skills"), gettext_lazy("New skill"),
         ((gettext_lazy("Name"), "name"), (gettext_lazy("Specialists"), "specialist_names"),
          (gettext_lazy("Labour, priced per hour"), "labour_product")), ("labour_product",), ("specialists",)),
    Kind("field-hours", SpecialistHours, forms.SpecialistHoursForm, gettext_lazy("Specialists' working hours"),
         gettext_lazy("Set working hours"),
         ((gettext_lazy("Specialist"), "specialist"), (gettext_lazy("Working hours"), "calendar")),
         ("specialist", "calendar")),
    Kind("canned", CannedResponse, forms.CannedResponseForm, gettext_lazy("Canned responses"),
         gettext_lazy("New canned response"), ((gettext_lazy("Title"), "title"),)),
    Kind("mailboxes", ImapMailbox, forms.ImapMailboxForm, gettext_lazy("IMAP mailboxes"), gettext_lazy("New mailbox"),
         ((gettext_lazy("Name"), "name"), (gettext_lazy("Server"), "host"), (gettext_lazy("User name"), "username"),
          (gettext_lazy("Folder"), "folder"), (gettext_lazy("Queue"), "queue"),
          (gettext_lazy("Last read"), "last_read_at"), (gettext_lazy("Last error"), "last_error_display"),
          (gettext_lazy("Read it"), "is_active")), ("queue",)),
)}


def _kind(key: str) -> Kind:
    kind = KINDS.get(key)
    if kind is None:
        raise Http404
    return kind


def setup_list(request, kind: str):
    spec = _kind(kind)
    require_read(request.user, spec.model)
    rows = [(row.pk, [_display(row, attr) for _header, attr in spec.columns])
            for row in spec.model.objects.select_related(*spec.related).prefetch_related(*spec.prefetch)]
    return render(request, "service/setup_list.html", {
        "spec": spec, "rows": rows, "kinds": _kinds_for(request.user),
        "can_change": can_create(request.user, spec.model)})


def _kinds_for(user) -> list[Kind]:
    """The tabs this user may open (agents do not see the IMAP mailboxes, which hold passwords)."""
    return [kind for kind in KINDS.values() if can_read(user, kind.model)]


def _display(row, attr: str) -> str:
    value = getattr(row, attr)
    value = value() if callable(value) else value
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return "" if value is None else str(value)


def setup_edit(request, kind: str, pk: int | None = None):
    spec = _kind(kind)
    require_create(request.user, spec.model)
    instance = get_object_or_404(spec.model, pk=pk) if pk else None
    form = spec.form(request.POST or None, instance=instance)
    if request.method == "POST":
        if request.POST.get("delete") and instance is not None:
            try:
                instance.delete()
            except ProtectedError:
                messages.error(request, _("%(name)s is in use by tickets and cannot be deleted.") % {"name": instance})
                return redirect("service:setup_edit", kind=kind, pk=instance.pk)
            messages.success(request, _("%(name)s was deleted.") % {"name": instance})
            return redirect("service:setup", kind=kind)
        if form.is_valid():
            saved = form.save()
            if spec.model is CannedResponse and instance is None:
                CannedResponse.objects.filter(pk=saved.pk).update(created_by=request.user)
            messages.success(request, _("%(name)s was saved.") % {"name": saved})
            return redirect("service:setup", kind=kind)
    return render(request, "service/setup_form.html", {"spec": spec, "form": form, "instance": instance,
                                                        "kinds": _kinds_for(request.user)})


@require_POST
def mailbox_check(request, pk: int):
    """"Check the connection": signs in and opens the folder, and says how many messages wait there."""
    require_create(request.user, ImapMailbox)
    mailbox = get_object_or_404(ImapMailbox, pk=pk)
    try:
        waiting = imap.try_connection(mailbox)
    except imap.MailboxError as problem:
        mailbox.last_error = str(problem)
        messages.error(request, _("No connection: %(error)s") % {"error": mailbox.last_error_display()})
    else:
        messages.success(request, _("Connected. Messages in %(folder)s: %(count)s.")
                         % {"folder": mailbox.folder, "count": waiting})
    return redirect("service:setup_edit", kind="mailboxes", pk=mailbox.pk)


@require_POST
def mailbox_read(request, pk: int):
    """"Read it now" instead of waiting for the next minute's tick (the claim still keeps it to one reader)."""
    require_create(request.user, ImapMailbox)
    mailbox = get_object_or_404(ImapMailbox, pk=pk, is_active=True)
    from service.tasks import read_imap_mailbox

    read_imap_mailbox.delay(mailbox.pk)
    messages.success(request, _("%(name)s is being read. New mail shows in the support mailbox log.")
                     % {"name": mailbox})
    return redirect("service:inbound_log")
