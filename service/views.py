"""The service desk's pages: the agent's work, tickets, the hotline and the desk's set-up.

Tickets are read through `Ticket.objects.visible_to` (support and executives: all; sales: its own
customers'); writes need the ticket policy's write scope (support and admins), else 403."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Account
from contacts.models import Contact
from crm import custom_fields, panels
from crm.downloads import private_download
from crm.forms import add_service_errors
from crm.history import history_for
from crm.list_tools import to_int
from crm.phones import format_phone, phone_candidates, search_regions
from crm.visibility import (
    can_create,
    can_edit,
    get_editable_or_404,
    get_visible_or_404,
    narrowed_q,
    require_create,
    require_read,
    with_visibility_flag,
)
from service import contract_services, field_services, kb_services, routing, services, sla_clock
from service.forms import (
    TICKET_CUSTOM_FIELDS,
    AssignForm,
    HotlineCallForm,
    HotlineTicketForm,
    ReplyForm,
    StatusForm,
    TicketForm,
    WorkLogForm,
)
from service.models import (
    ACTIVE_STATUSES,
    Article,
    CannedResponse,
    Channel,
    Contract,
    ImapMailbox,
    InboundEmail,
    Queue,
    SlaState,
    Ticket,
    TicketAttachment,
    WorkOrder,
    served_queue_ids,
)

MY_ROWS = 25
INBOUND_ROWS = 200
HISTORY_SHOWN = 30
HOTLINE_ROWS = 10
WORK_ORDERS_SHOWN = 10


def _tickets(user):
    return Ticket.objects.visible_to(user).select_related("owner", "queue", "account", "contact")


def _my_queues(user):
    """The queues the user is an agent of; when agents work only their team's queues, of those only the ones
    the team serves (the figures, "take next")."""
    queues = Queue.objects.filter(members=user)
    if narrowed_q(user, Ticket) is not None:
        queues = queues.filter(pk__in=served_queue_ids(user))
    return queues


def desk_home(request):
    """The agent's work: my open tickets by due time, my queues with what waits in them and "take
    next", and what is at risk. A lead sees every queue's figures."""
    user = request.user
    require_read(user, Ticket)
    tickets = _tickets(user)
    mine = list(tickets.filter(owner=user, status__in=ACTIVE_STATUSES)
                .order_by("resolution_due", "priority", "id")[:MY_ROWS])
    queues = Queue.objects.all() if can_create(user, Queue) else _my_queues(user)
    queue_rows = list(queues.order_by("name"))
    # One pass over the open tickets of these queues (a partial index holds only open work).
    waiting = Q(owner__isnull=True, status__in=routing.WAITING)
    counts = {row["queue"]: row for row in Ticket.objects.filter(
        queue__in=[queue.pk for queue in queue_rows], status__in=ACTIVE_STATUSES, deleted_at__isnull=True,
    ).values("queue").annotate(waiting=Count("id", filter=waiting), open=Count("id"),
                               at_risk=Count("id", filter=Q(sla_state=SlaState.AT_RISK)),
                               breached=Count("id", filter=Q(sla_state=SlaState.BREACHED)))}
    for queue in queue_rows:
        row = counts.get(queue.pk, {})
        for name in ("waiting", "open", "at_risk", "breached"):
            setattr(queue, name, row.get(name, 0))
    urgent = list(tickets.filter(status__in=ACTIVE_STATUSES, sla_state__in=[SlaState.AT_RISK, SlaState.BREACHED])
                  .filter(Q(owner=user) | Q(queue__in=[q.pk for q in queue_rows]))
                  .order_by("resolution_due", "id")[:MY_ROWS])
    member_of = {q.pk for q in queue_rows} if not can_create(user, Queue) else set(
        _my_queues(user).values_list("pk", flat=True))
    return render(request, "service/desk_home.html", {
        "mine": mine, "queues": queue_rows, "urgent": urgent, "member_of": member_of,
        "can_work": can_create(user, Ticket), "now": timezone.now(),
        # Modules above the desk add their figures here (satisfaction scores, say): target "service.desk".
        "panels": panels.render(request, user, target="service.desk"),
    })


@require_POST
def take_next(request):
    require_create(request.user, Ticket)
    queue_ids = [to_int(value) for value in request.POST.getlist("queue")]
    member_of = set(_my_queues(request.user).values_list("pk", flat=True))
    allowed = [pk for pk in queue_ids if pk in member_of or can_create(request.user, Queue)]
    ticket = services.ticket_take_next(actor=request.user, queue_ids=allowed or member_of)
    if ticket is None:
        messages.info(request, _("Nothing is waiting in your queues."))
        return redirect("service:home")
    messages.success(request, _("Ticket %(number)s is yours.") % {"number": ticket.number})
    return redirect(ticket)


def ticket_create(request):
    require_create(request.user, Ticket)
    initial = {}
    for name, model in (("account", Account), ("contact", Contact)):
        pk = to_int(request.GET.get(name))
        if pk and model.objects.visible_to(request.user).filter(pk=pk).exists():
            initial[name] = pk
    form = TicketForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(actor=request.user, **form.service_fields(
                {*services.EDITABLE, "queue", "owner"}))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Ticket %(number)s was opened.") % {"number": ticket.number})
            if not _tickets(request.user).filter(pk=ticket.pk).exists():  # routed to a queue the team does not serve
                messages.info(request, _("It went to the queue %(queue)s, which your team does not serve.")
                              % {"queue": ticket.queue or "—"})
                return redirect("service:ticket_list")
            return redirect(ticket)
    return render(request, "service/ticket_form.html", {"form": form})


def ticket_detail(request, pk: int):
    user = request.user
    tickets = with_visibility_flag(_tickets(user).select_related("sla_policy", "product", "contract"), user, "account")
    # The ticket's visits ride along in the same query (a JSON array), keeping the page's budget.
    tickets = tickets.annotate(visit_rows=field_services.visit_rows(
        WorkOrder.objects.filter(ticket=OuterRef("pk"), deleted_at__isnull=True), WORK_ORDERS_SHOWN),
        custom_definitions=custom_fields.definitions_subquery(TICKET_CUSTOM_FIELDS))
    ticket = get_visible_or_404(with_visibility_flag(tickets, user, "contact"), user, pk=pk)
    editable = can_edit(user, ticket)
    conversation = list(ticket.messages.select_related("author"))
    files_by_message: dict[int | None, list] = {}
    for attachment in ticket.attachments.all():  # one query for the files of every message and of the ticket
        files_by_message.setdefault(attachment.message_id, []).append(attachment)
    for message in conversation:
        message.files = files_by_message.get(message.pk, [])
    others = []
    if ticket.contact_id or ticket.account_id:
        related = Q(contact_id=ticket.contact_id) if ticket.contact_id else Q(account_id=ticket.account_id)
        others = list(_tickets(user).filter(related, status__in=ACTIVE_STATUSES).exclude(pk=ticket.pk)
                      .order_by("-created_at")[:5])
    now = timezone.now()
    context = {
        "ticket": ticket, "conversation": conversation, "can_edit": editable, "others": others,
        "account_visible": ticket.account_id and ticket.account_visible,
        "contact_visible": ticket.contact_id and ticket.contact_visible,
        "countdown": sla_clock.countdown_seconds(ticket, now), "now": now,
        "history": history_for(ticket, user=user, limit=HISTORY_SHOWN),
        "panels": panels.render(request, ticket),
        "custom_values": [(label, value) for label, value in custom_fields.display(
            TICKET_CUSTOM_FIELDS, ticket.custom, custom_fields.definitions_from(TICKET_CUSTOM_FIELDS,
                                                                                ticket.custom_definitions))
            if value not in (None, "")],
    }
    context["ticket_files"] = files_by_message.get(None, [])
    work_logs = list(ticket.work_logs.select_related("user", "product"))
    context["work_logs"] = work_logs
    context["work"] = field_services.work_rollup(work_logs) if work_logs else None
    context["work_orders"] = field_services.visits_from(ticket.visit_rows)
    if ticket.contract_id:
        used = contract_services.usage([ticket.contract])[ticket.contract_id]
        context["coverage"] = {"contract": ticket.contract, "used": used,
                               "remaining": contract_services.remaining(ticket.contract, used),
                               "in_force": ticket.contract.in_force}
    context["linked_articles"], suggestions = kb_services.for_ticket(ticket, Article.objects.visible_to(user))
    if editable:
        context.update({
            "suggestions": suggestions,
            "work_form": WorkLogForm(),
            "reply_form": ReplyForm(), "status_form": StatusForm(initial={"status": ticket.status}),
            "assign_form": AssignForm(initial={"owner": ticket.owner_id, "queue": ticket.queue_id}),
            "canned": list(CannedResponse.objects.only("id", "title")),
        })
    return render(request, "service/ticket_detail.html", context)


def ticket_edit(request, pk: int):
    ticket = get_editable_or_404(_tickets(request.user), request.user, pk=pk)
    form = TicketForm(request.POST or None, instance=ticket, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields(services.EDITABLE)
        try:
            services.ticket_update(ticket=ticket, actor=request.user, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Ticket %(number)s was saved.") % {"number": ticket.number})
            return redirect(ticket)
    return render(request, "service/ticket_form.html", {"form": form, "ticket": ticket})


@require_POST
def ticket_reply(request, pk: int):
    ticket = get_editable_or_404(Ticket, request.user, pk=pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.ticket_reply(ticket=ticket, actor=request.user, body=data["body"], internal=data["internal"],
                                  uploads=data["files"], status=data["status"] or None)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Internal note added.") if data["internal"] else _("Reply sent."))
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect(ticket)


@require_POST
def ticket_status(request, pk: int):
    ticket = get_editable_or_404(Ticket, request.user, pk=pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        ticket = services.ticket_set_status(ticket=ticket, actor=request.user, status=form.cleaned_data["status"])
        messages.success(request, _("Ticket %(number)s is now %(status)s.")
                         % {"number": ticket.number, "status": ticket.get_status_display().lower()})
    return redirect(ticket)


@require_POST
def ticket_assign(request, pk: int):
    ticket = get_editable_or_404(Ticket, request.user, pk=pk)
    if request.POST.get("take"):
        services.ticket_assign(ticket=ticket, actor=request.user, owner=request.user)
        messages.success(request, _("Ticket %(number)s is yours.") % {"number": ticket.number})
        return redirect(ticket)
    form = AssignForm(request.POST)
    if form.is_valid():
        services.ticket_assign(ticket=ticket, actor=request.user, owner=form.cleaned_data["owner"],
                               queue=form.cleaned_data["queue"])
        messages.success(request, _("Assignment saved."))
    return redirect(ticket)


def ticket_delete(request, pk: int):
    ticket = get_editable_or_404(Ticket, request.user, pk=pk)
    if request.method == "POST":
        services.ticket_delete(ticket=ticket, actor=request.user)
        messages.success(request, _("Ticket %(number)s was deleted.") % {"number": ticket.number})
        return redirect("service:ticket_list")
    return render(request, "service/ticket_confirm_delete.html", {"ticket": ticket})


def attachment_download(request, pk: int, attachment_pk: int):
    """Only through the ticket's visibility; always a download, never rendered inline."""
    ticket = get_visible_or_404(Ticket, request.user, pk=pk)
    attachment = get_object_or_404(TicketAttachment, pk=attachment_pk, ticket=ticket)
    return private_download(attachment.file, filename=attachment.name, content_type=attachment.content_type)


def canned_fill(request, pk: int):
    """The reply box with a canned response filled in for this ticket (htmx swaps the textarea)."""
    ticket = get_editable_or_404(Ticket, request.user, pk=pk)
    canned = get_object_or_404(CannedResponse, pk=to_int(request.GET.get("canned")) or 0)
    text = services.canned_render(canned, ticket=ticket, agent=request.user)
    existing = request.GET.get("body", "").strip()
    body = f"{existing}\n\n{text}" if existing else text
    return render(request, "service/ticket_detail.html#reply_body", {"body": body})


# --- The hotline --------------------------------------------------------------------------------


def hotline(request):
    """One screen for a phone call: who is calling (by phone in any format), their open tickets,
    their account's tier and last interactions; a new ticket or the call added to an open one."""
    user = request.user
    require_read(user, Ticket)
    raw = request.GET.get("phone", "").strip()
    # A number typed without a country code is read in the agent's country first, then the others the
    # desk serves ("8 (916) 638-38-11" is Moscow, "020 7946 0000" London): the caller may be either.
    candidates = phone_candidates(raw, search_regions(user)) if raw else []
    e164 = candidates[0] if candidates else None
    contacts, accounts, caller, tickets = [], [], None, []
    if candidates:
        # No ORDER BY in SQL: the phones index finds the few people with the number; sorted here.
        contacts = sorted(with_visibility_flag(
            Contact.objects.visible_to(user).filter(phones__overlap=candidates).select_related("account"), user,
            "account").order_by()[:HOTLINE_ROWS], key=lambda contact: (contact.last_name, contact.pk))
        accounts = list(Account.objects.visible_to(user).filter(phone_e164__in=candidates)
                        .order_by("name")[:HOTLINE_ROWS])
        matched = [number for number in candidates
                   if any(number in contact.phones for contact in contacts)
                   or any(account.phone_e164 == number for account in accounts)]
        e164 = matched[0] if matched else e164
        chosen = to_int(request.GET.get("contact"))
        caller = next((c for c in contacts if c.pk == chosen), contacts[0] if len(contacts) == 1 else None)
    account = None
    if caller is not None:
        account = caller.account if caller.account_visible else None
    elif len(accounts) == 1 and not contacts:
        account = accounts[0]
    if caller is not None or account is not None:
        related = Q(contact=caller) if caller is not None else Q(account=account)
        if caller is not None and account is not None:
            related |= Q(account=account)
        tickets = list(_tickets(user).filter(related, status__in=ACTIVE_STATUSES)
                       .order_by("queue_rank", "created_at")[:HOTLINE_ROWS])
    contracts = []
    if account is not None:
        contracts = list(Contract.objects.visible_to(user).filter(account=account).select_related("product")
                         .order_by("-ends_on")[:HOTLINE_ROWS])
    context = {
        "raw": raw, "e164": e164, "formatted": format_phone(e164) if e164 else "", "contacts": contacts,
        "accounts": accounts, "caller": caller, "account": account, "tickets": tickets, "contracts": contracts,
        "covered": any(contract.in_force for contract in contracts),
        "boost": routing.boost_for(account), "can_work": can_create(user, Ticket),
        "new_form": HotlineTicketForm(), "call_form": HotlineCallForm(),
        "panels": panels.render(request, caller, target="service.hotline") if caller is not None else {},
    }
    return render(request, "service/hotline.html", context)


def _hotline_back(request, phone: str, contact_id: int | None):
    url = reverse("service:hotline") + f"?phone={phone}"
    return redirect(url + (f"&contact={contact_id}" if contact_id else ""))


@require_POST
def hotline_ticket(request):
    user = request.user
    require_create(user, Ticket)
    form = HotlineTicketForm(request.POST)
    contact = account = None
    contact_id, account_id = to_int(request.POST.get("contact")), to_int(request.POST.get("account"))
    if contact_id:
        contact = get_visible_or_404(Contact, user, pk=contact_id)
    elif account_id:
        account = get_visible_or_404(Account, user, pk=account_id)
    if not form.is_valid():
        messages.error(request, _("Say what the call is about."))
        return _hotline_back(request, request.POST.get("phone", ""), contact_id)
    data = form.cleaned_data
    ticket = services.ticket_create(actor=user, subject=data["subject"], call_note=data["call_note"],
                                    category=data["category"], priority=data["priority"], channel=Channel.PHONE,
                                    contact=contact, account=account or (contact.account if contact else None),
                                    owner=user if user.role in ("support_agent", "support_lead") else None)
    messages.success(request, _("Ticket %(number)s was opened.") % {"number": ticket.number})
    return redirect(ticket)


@require_POST
def hotline_call(request):
    user = request.user
    form = HotlineCallForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a note about the call first."))
        return _hotline_back(request, request.POST.get("phone", ""), to_int(request.POST.get("contact")))
    ticket = get_editable_or_404(Ticket, user, pk=form.cleaned_data["ticket"])
    services.ticket_customer_message(ticket=ticket, body=form.cleaned_data["call_note"], kind="call", author=user)
    messages.success(request, _("The call was added to %(number)s.") % {"number": ticket.number})
    return redirect(ticket)


def inbound_log(request):
    """What the support mailbox brought in, and what became of each message (the desk's set-up readers)."""
    require_read(request.user, Queue)
    rows = InboundEmail.objects.select_related("ticket", "mailbox").order_by("-received_at", "-id")[:INBOUND_ROWS]
    return render(request, "service/inbound_log.html", {"rows": rows,
                                                        "can_set_up": can_create(request.user, ImapMailbox)})
