"""Marketing pages: the overview, a campaign's create/edit/delete and its page (figures, cost
lines, members, the leads and deals it brought), and the source campaign of a lead or a deal."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q, Window
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import Account
from activities.models import Activity, ActivityKind
from contacts.models import Contact
from crm import panels
from crm.history import CHANGES_SCANNED, history_for
from crm.list_tools import to_int
from crm.pagination import paginate
from crm.security import client_ip
from crm.visibility import (
    can_create,
    can_edit,
    can_read,
    can_see,
    get_editable_or_404,
    get_visible_or_404,
    require_admin,
    require_create,
    require_read,
    with_visibility_flag,
)
from marketing import (
    bounces,
    calllists,
    mailings,
    notices,
    segments,
    services,
    subscriptions,
    templating,
    tracking,
    webforms,
)
from marketing.figures import campaign_figures, with_list_figures
from marketing.forms import (
    AttributionForm,
    CallListAddForm,
    CallListEditForm,
    CallListForm,
    CallOutcomeForm,
    CallReassignForm,
    CampaignForm,
    CostForm,
    EmailTemplateForm,
    MailingForm,
    MemberAddForm,
    MemberStatusForm,
    PreferencesForm,
    PreviewForm,
    ProductNoticeForm,
    PublicLeadForm,
    ScheduleForm,
    SegmentForm,
    StaffTopicsForm,
    StaticListForm,
    TopicForm,
    WebFormForm,
)
from marketing.models import (
    BouncedAddress,
    CallList,
    CallListItem,
    CallResult,
    Campaign,
    CampaignCost,
    CampaignMember,
    CampaignStatus,
    EmailTemplate,
    Mailing,
    MailingStatus,
    MemberStatus,
    Segment,
    StaticList,
    StaticListMember,
    Topic,
    WebForm,
    WebFormSubmission,
)
from sales.models import Lead, Opportunity, Product

HISTORY_SHOWN = 50
ROWS = 10
MEMBER_ROWS = 25
AUTOCOMPLETE_LIMIT = 20


def overview(request):
    """Campaigns running now and the ones planned next, with their cost and leads so far."""
    require_read(request.user, Campaign)
    campaigns = with_list_figures(Campaign.objects.visible_to(request.user).select_related("owner"))
    sections = []
    for key, status, title, empty, ordering in (
        ("running", CampaignStatus.ACTIVE, _("Running now"), _("No campaign is running."), ("end_date", "id")),
        ("planned", CampaignStatus.PLANNED, _("Coming up"), _("No campaign is planned. Plan the next one."),
         ("start_date", "id")),
    ):
        rows, total = _rows_and_total(campaigns.filter(status=status).order_by(*ordering))
        sections.append({"key": key, "status": status, "title": title, "empty": empty, "rows": rows, "total": total})
    return render(request, "marketing/overview.html", {"sections": sections,
                                                       "may_manage_bounces": bounces.may_manage(request.user),
                                                       "may_create": can_create(request.user, Campaign)})


def _with_contact_flags(members, user):
    """Member rows with their contact and its company, each named only to those who may open it."""
    return (with_visibility_flag(members.select_related("contact__account"), user, "contact")
            .annotate(contact_account_visible=Exists(Account.objects.visible_to(user)
                                                     .filter(pk=OuterRef("contact__account_id")))))


def _rows_and_total(queryset, limit: int = ROWS) -> tuple[list, int]:
    rows = list(queryset.annotate(panel_total=Window(Count("pk")))[:limit])
    return rows, (rows[0].panel_total if rows else 0)


def campaign_detail(request, pk: int):
    campaign = get_visible_or_404(Campaign.objects.select_related("owner", "team", "parent"), request.user, pk=pk)
    history = history_for(campaign, user=request.user, limit=CHANGES_SCANNED)
    editable = can_edit(request.user, campaign)
    members, members_total = _rows_and_total(
        _with_contact_flags(CampaignMember.objects.filter(campaign=campaign), request.user)
        .order_by("-status_changed_at", "-id"), MEMBER_ROWS)
    leads, leads_total = (_rows_and_total(
        Lead.objects.visible_to(request.user).filter(attribution__campaign=campaign)
        .select_related("owner").order_by("-created_at", "-id")) if can_read(request.user, Lead) else ([], 0))
    deals, deals_total = (_rows_and_total(
        Opportunity.objects.visible_to(request.user).filter(attribution__campaign=campaign)
        .select_related("stage", "owner").order_by("-expected_close_date", "-id"))
        if can_read(request.user, Opportunity) else ([], 0))
    figures = campaign_figures(campaign)
    children = list(Campaign.objects.visible_to(request.user).filter(parent=campaign)
                    .order_by("start_date", "id")[:ROWS])
    context = {
        "campaign": campaign,
        "parent_visible": bool(campaign.parent_id) and can_see(request.user, campaign.parent),
        "can_edit": editable,
        "figures": figures,
        "member_counts": [(value, label, figures.members.get(value, 0)) for value, label in MemberStatus.choices],
        "costs": list(CampaignCost.objects.filter(campaign=campaign).select_related("created_by")),
        "cost_form": CostForm(),
        "members": members, "members_total": members_total,
        "member_form": MemberAddForm(user=request.user) if editable else None,
        "member_statuses": MemberStatus.choices,
        "leads": leads, "leads_total": leads_total,
        "deals": deals, "deals_total": deals_total,
        "sees_leads": can_read(request.user, Lead), "sees_deals": can_read(request.user, Opportunity),
        "children": children,
        "mailings": list(Mailing.objects.visible_to(request.user).filter(campaign=campaign)
                         .order_by("-created_at", "-id")[:ROWS]),
        "call_lists": list(calllists.with_progress(CallList.objects.visible_to(request.user).filter(campaign=campaign))
                           .order_by("-created_at", "-id")[:ROWS]),
        "history": history[:HISTORY_SHOWN],
        "panels": panels.render(request, campaign, {"history": history}),
    }
    return render(request, "marketing/campaign_detail.html", context)


def campaign_create(request):
    require_create(request.user, Campaign)
    form = CampaignForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        campaign = services.campaign_create(actor=request.user, **form.cleaned_data)
        messages.success(request, _("Campaign %(name)s was created.") % {"name": campaign.name})
        return redirect(campaign)
    return render(request, "marketing/campaign_form.html", {"form": form})


def campaign_edit(request, pk: int):
    campaign = get_editable_or_404(Campaign, request.user, pk=pk)
    form = CampaignForm(request.POST or None, instance=campaign, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.campaign_update(campaign=campaign, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Campaign %(name)s was saved.") % {"name": campaign.name})
        return redirect(campaign)
    return render(request, "marketing/campaign_form.html", {"form": form, "campaign": campaign})


def campaign_delete(request, pk: int):
    campaign = get_editable_or_404(Campaign, request.user, pk=pk)
    if request.method == "POST":
        services.campaign_delete(campaign=campaign, actor=request.user)
        messages.success(request, _("Campaign %(name)s was deleted.") % {"name": campaign.name})
        return redirect("marketing:campaign_list")
    return render(request, "marketing/campaign_confirm_delete.html", {"campaign": campaign})


@require_POST
def cost_add(request, pk: int):
    campaign = get_editable_or_404(Campaign, request.user, pk=pk)
    form = CostForm(request.POST)
    if form.is_valid():
        services.campaign_cost_add(campaign=campaign, actor=request.user, **form.cleaned_data)
        messages.success(request, _("The cost line was added."))
    else:
        errors = "; ".join(str(error) for field_errors in form.errors.values() for error in field_errors)
        messages.error(request, _("The cost line was not added: %(errors)s") % {"errors": errors})
    return redirect(f"{campaign.get_absolute_url()}#costs")


@require_POST
def cost_remove(request, pk: int, cost_pk: int):
    campaign = get_editable_or_404(Campaign, request.user, pk=pk)
    cost = get_object_or_404(CampaignCost, pk=cost_pk, campaign=campaign)
    services.campaign_cost_remove(cost=cost, actor=request.user)
    messages.success(request, _("The cost line was removed."))
    return redirect(f"{campaign.get_absolute_url()}#costs")


@require_POST
def member_add(request, pk: int):
    campaign = get_editable_or_404(Campaign, request.user, pk=pk)
    form = MemberAddForm(request.POST, user=request.user)
    if form.is_valid():
        added = services.campaign_members_add(campaign=campaign, actor=request.user,
                                              contacts=[form.cleaned_data["contact"]],
                                              status=form.cleaned_data["status"])
        if added:
            messages.success(request, _("%(name)s was added to the campaign.") % {"name": form.cleaned_data["contact"]})
        else:
            messages.info(request, _("%(name)s is already in the campaign.") % {"name": form.cleaned_data["contact"]})
    else:
        messages.error(request, _("Choose a contact to add."))
    return redirect(f"{campaign.get_absolute_url()}#members")


@require_POST
def member_status(request, pk: int, member_pk: int):
    campaign = get_editable_or_404(Campaign, request.user, pk=pk)
    member = get_object_or_404(CampaignMember, pk=member_pk, campaign=campaign)
    form = MemberStatusForm(request.POST)
    if form.is_valid():
        services.campaign_member_set_status(member=member, actor=request.user, status=form.cleaned_data["status"])
        messages.success(request, _("The member's status was changed."))
    else:
        messages.error(request, _("Choose one of the offered statuses."))
    return redirect(f"{campaign.get_absolute_url()}#members")


@require_POST
def member_remove(request, pk: int, member_pk: int):
    campaign = get_editable_or_404(Campaign, request.user, pk=pk)
    member = get_object_or_404(CampaignMember, pk=member_pk, campaign=campaign)
    services.campaign_member_remove(member=member, actor=request.user)
    messages.success(request, _("The member was removed from the campaign."))
    return redirect(f"{campaign.get_absolute_url()}#members")


def _attribute(request, record, service, keyword):
    form = AttributionForm(request.POST, user=request.user)
    if form.is_valid():
        service(**{keyword: record}, campaign=form.cleaned_data["campaign"], actor=request.user)
        if form.cleaned_data["campaign"]:
            messages.success(request, _("Source campaign set to %(name)s.") % {"name": form.cleaned_data["campaign"]})
        else:
            messages.success(request, _("The source campaign was cleared."))
    else:
        messages.error(request, _("Choose a campaign from the list."))
    return redirect(record)


@require_POST
def lead_attribution(request, lead_pk: int):
    lead = get_editable_or_404(Lead, request.user, pk=lead_pk)
    return _attribute(request, lead, services.lead_attribute, "lead")


@require_POST
def deal_attribution(request, deal_pk: int):
    deal = get_editable_or_404(Opportunity, request.user, pk=deal_pk)
    return _attribute(request, deal, services.deal_attribute, "opportunity")


def campaign_autocomplete(request):
    if not can_read(request.user, Campaign):
        raise Http404
    term = request.GET.get("q", "").strip()
    campaigns = Campaign.objects.visible_to(request.user)
    if term:
        campaigns = campaigns.filter(name__icontains=term)
    rows = campaigns.filter(~Q(status=CampaignStatus.CANCELLED) | Q(name__iexact=term)).order_by(
        "-start_date", "-id").values("id", "name", "start_date")[:AUTOCOMPLETE_LIMIT]
    return JsonResponse({"results": [
        {"id": row["id"], "text": row["name"] + (f" · {row['start_date']:%Y-%m}" if row["start_date"] else "")}
        for row in rows]})



# --- Segments -----------------------------------------------------------------------------


def _segment_form_page(request, segment: Segment | None):
    initial = SegmentForm.initial_from(segment) if segment else None
    form = SegmentForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = {"name": form.cleaned_data["name"], "description": form.cleaned_data["description"],
                  "criteria": form.criteria()}
        if segment is None:
            segment = services.segment_create(actor=request.user, **fields)
            messages.success(request, _("Segment %(name)s was created.") % {"name": segment.name})
        else:
            services.segment_update(segment=segment, actor=request.user, **fields)
            messages.success(request, _("Segment %(name)s was saved.") % {"name": segment.name})
        return redirect(segment)
    count, sample = (None, [])
    if form.is_bound is False:
        count, sample = segments.preview(segment.criteria if segment else {}, request.user)
    return render(request, "marketing/segment_form.html", {
        "form": form, "segment": segment, "count": count, "sample": sample})


def segment_create(request):
    require_create(request.user, Segment)
    return _segment_form_page(request, None)


def segment_edit(request, pk: int):
    return _segment_form_page(request, get_editable_or_404(Segment, request.user, pk=pk))


@require_POST
def segment_preview(request):
    """The live count and sample while the criteria are being chosen (htmx)."""
    require_read(request.user, Segment)
    form = SegmentForm(request.POST, user=request.user, preview=True)
    count, sample = (segments.preview(form.criteria(), request.user) if form.is_valid() else (None, []))
    return render(request, "marketing/segment_form.html#preview", {"form": form, "count": count, "sample": sample})


def segment_detail(request, pk: int):
    segment = get_visible_or_404(Segment.objects.select_related("owner"), request.user, pk=pk)
    count, sample = segments.preview(segment.criteria, request.user)
    campaigns = Campaign.objects.editable_by(request.user).exclude(
        status__in=[CampaignStatus.COMPLETED, CampaignStatus.CANCELLED]).order_by("name", "id")[:ROWS * 10]
    return render(request, "marketing/segment_detail.html", {
        "segment": segment, "criteria": segments.describe(segment.criteria), "count": count, "sample": sample,
        "can_edit": can_edit(request.user, segment), "campaigns": list(campaigns),
        "member_statuses": MemberStatus.choices,
        "history": history_for(segment, user=request.user, limit=HISTORY_SHOWN)})


def segment_delete(request, pk: int):
    segment = get_editable_or_404(Segment, request.user, pk=pk)
    if request.method == "POST":
        services.segment_delete(segment=segment, actor=request.user)
        messages.success(request, _("Segment %(name)s was deleted.") % {"name": segment.name})
        return redirect("marketing:segment_list")
    return render(request, "marketing/segment_confirm_delete.html", {"segment": segment})


@require_POST
def segment_to_campaign(request, pk: int):
    """Everyone in the segment joins a campaign the user may edit."""
    segment = get_visible_or_404(Segment, request.user, pk=pk)
    campaign = Campaign.objects.editable_by(request.user).filter(pk=to_int(request.POST.get("campaign"))).first()
    status = request.POST.get("status", MemberStatus.TARGETED)
    if campaign is None or status not in MemberStatus.values:
        messages.error(request, _("Choose one of the offered campaigns and statuses."))
        return redirect(segment)
    added = services.campaign_members_add_segment(campaign=campaign, actor=request.user, segment=segment,
                                                  status=status)
    messages.success(request, ngettext("%(count)s person joined %(campaign)s.",
                                       "%(count)s people joined %(campaign)s.", added)
                     % {"count": added, "campaign": campaign.name})
    return redirect(f"{campaign.get_absolute_url()}#members")


# --- Static lists -------------------------------------------------------------------------


def _static_list_form_page(request, static_list: StaticList | None):
    form = StaticListForm(request.POST or None, instance=static_list)
    if request.method == "POST" and form.is_valid():
        if static_list is None:
            static_list = services.static_list_create(actor=request.user, **form.cleaned_data)
            messages.success(request, _("Static list %(name)s was created.") % {"name": static_list.name})
        else:
            services.static_list_update(static_list=static_list, actor=request.user, **form.cleaned_data)
            messages.success(request, _("Static list %(name)s was saved.") % {"name": static_list.name})
        return redirect(static_list)
    return render(request, "marketing/static_list_form.html", {"form": form, "static_list": static_list})


def static_list_create(request):
    require_create(request.user, StaticList)
    return _static_list_form_page(request, None)


def static_list_edit(request, pk: int):
    return _static_list_form_page(request, get_editable_or_404(StaticList, request.user, pk=pk))


def static_list_detail(request, pk: int):
    static_list = get_visible_or_404(StaticList.objects.select_related("owner"), request.user, pk=pk)
    on_list = StaticListMember.objects.filter(static_list=static_list)
    members = (with_visibility_flag(_with_contact_flags(on_list, request.user), request.user, "lead")
               .select_related("added_by", "lead").order_by("-added_at", "-id"))
    page = paginate(members, request.GET.get("page"), per_page=MEMBER_ROWS * 2)
    return render(request, "marketing/static_list_detail.html", {
        "static_list": static_list, "page": page, "can_edit": can_edit(request.user, static_list),
        "contacts_url": reverse("contacts:list"),
        "leads_url": reverse("sales:lead_list") if can_read(request.user, Lead) else "",
        # Mailings reach the list's contacts only (call lists call its leads too): the page says how many leads.
        "lead_total": on_list.filter(lead__isnull=False).count() if page.total else 0,
        "history": history_for(static_list, user=request.user, limit=HISTORY_SHOWN)})


@require_POST
def static_list_remove(request, pk: int):
    static_list = get_editable_or_404(StaticList, request.user, pk=pk)
    removed = services.static_list_remove(
        static_list=static_list, actor=request.user,
        contact_ids=[to_int(raw) for raw in request.POST.getlist("contact") if to_int(raw)],
        lead_ids=[to_int(raw) for raw in request.POST.getlist("lead") if to_int(raw)])
    messages.success(request, ngettext("%(count)s person removed from the list.",
                                       "%(count)s people removed from the list.", removed) % {"count": removed})
    return redirect(static_list)


def static_list_delete(request, pk: int):
    static_list = get_editable_or_404(StaticList, request.user, pk=pk)
    if request.method == "POST":
        services.static_list_delete(static_list=static_list, actor=request.user)
        messages.success(request, _("Static list %(name)s was deleted.") % {"name": static_list.name})
        return redirect("marketing:static_list_list")
    return render(request, "marketing/static_list_confirm_delete.html", {"static_list": static_list})


# --- Mailings -----------------------------------------------------------------------------


def mailing_create(request, campaign_pk: int):
    """A new mailing; `?template=<id>` starts it from a template the user may see (its language versions
    copied into the form)."""
    campaign = get_editable_or_404(Campaign, request.user, pk=campaign_pk)
    templates = EmailTemplate.objects.visible_to(request.user).order_by("name", "id")
    chosen = None
    if request.method == "GET" and request.GET.get("template"):
        chosen = get_visible_or_404(EmailTemplate.objects.prefetch_related("versions"), request.user,
                                    pk=to_int(request.GET["template"]) or 0)
    initial = MailingForm.initial_from(chosen, request.user.language) if chosen else None
    form = MailingForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        mailing = services.mailing_create(actor=request.user, campaign=campaign, **form.mailing_fields())
        messages.success(request, _("The mailing was saved as a draft. Check it, then send it."))
        return redirect(mailing)
    return render(request, "marketing/mailing_form.html", {
        "form": form, "campaign": campaign, "merge_fields": templating.FIELDS, "templates": templates[:200],
        "chosen": chosen})


def mailing_detail(request, pk: int):
    mailing = get_visible_or_404(
        Mailing.objects.select_related("campaign", "segment", "static_list", "owner", "topic"), request.user, pk=pk)
    context = {"mailing": mailing, "languages": mailings.language_names(mailing), "counts": mailings.counts(mailing),
               "can_edit": can_edit(request.user, mailing)}
    if mailing.track and mailing.status != MailingStatus.DRAFT:
        context["link_counts"] = tracking.link_counts(mailing)
    if mailing.next_run_at and mailing.status == MailingStatus.SENDING and mailing.next_run_at > timezone.now():
        context["paused_until"] = mailing.next_run_at
    if mailing.status == MailingStatus.DRAFT:
        context["schedule_form"] = ScheduleForm()
        audience = mailings.audience(mailing, request.user)
        context["audience_total"] = audience.count()
        context["leads_left_out"] = mailings.leads_left_out(mailing, request.user)
        sources = {code: (subject, body, mailings.htmls_of(mailing).get(code, ""))
                   for code, (subject, body) in mailings.texts_of(mailing).items()}
        first = audience.select_related(*templating.RELATED).order_by("last_name", "first_name", "id").first()
        context.update(_preview(request, sources, mailing.language, first))
        context["test_url"] = reverse("marketing:mailing_test", args=[mailing.pk])
    if request.htmx and request.GET.get("part") == "counts":
        return render(request, "marketing/mailing_detail.html#counts", context)
    return render(request, "marketing/mailing_detail.html", context)


@require_POST
def mailing_send(request, pk: int):
    """Sends now, or at the time chosen (the "Schedule" button posts `send_at`)."""
    mailing = get_editable_or_404(Mailing, request.user, pk=pk)
    base_url = request.build_absolute_uri("/")
    if "send_at" in request.POST:
        form = ScheduleForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(form.errors["send_at"]))
        elif mailings.mailing_schedule(mailing=mailing, actor=request.user, send_at=form.cleaned_data["send_at"],
                                       base_url=base_url):
            messages.success(request, _("The mailing is scheduled. It starts by itself at the time chosen."))
        else:
            messages.info(request, _("Only a draft can be scheduled: nothing was changed."))
        return redirect(mailing)
    if mailings.mailing_start(mailing=mailing, actor=request.user, base_url=base_url):
        messages.success(request, _("The mailing is being sent. Each recipient gets it once."))
    else:
        messages.info(request, _("This mailing was already sent: nothing was sent again."))
    return redirect(mailing)


@require_POST
def mailing_test(request, pk: int):
    """Sends the draft, as the chosen contact would get it, to the signed-in user's own address."""
    mailing = get_editable_or_404(Mailing, request.user, pk=pk)
    sources = {code: (subject, body, mailings.htmls_of(mailing).get(code, ""))
               for code, (subject, body) in mailings.texts_of(mailing).items()}
    _send_test(request, sources, mailing.language)
    return redirect(_back_to_preview(mailing.get_absolute_url(), request.POST))


@require_POST
def mailing_unschedule(request, pk: int):
    mailing = get_editable_or_404(Mailing, request.user, pk=pk)
    if mailings.mailing_unschedule(mailing=mailing):
        messages.success(request, _("The schedule is cancelled: the mailing is a draft again."))
    else:
        messages.info(request, _("The mailing is not scheduled (any more): nothing was changed."))
    return redirect(mailing)


@login_not_required
@csrf_exempt  # RFC 8058: mail providers POST "List-Unsubscribe=One-Click" with no session; the link is signed
def unsubscribe(request, token: str):
    """The public page behind every message's unsubscribe link: GET asks (so link scanners change
    nothing), POST unsubscribes at once, with no sign-in."""
    delivery = mailings.delivery_for_token(token)
    if delivery is None:
        return render(request, "marketing/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        mailings.unsubscribe(delivery=delivery)
        return render(request, "marketing/unsubscribe.html", {"done": True, "delivery": delivery})
    return render(request, "marketing/unsubscribe.html", {"delivery": delivery})


# --- E-mail templates: list, create, edit, delete, preview, test -------------------------------------


def _preview(request, sources: dict[str, tuple[str, str, str]], default_language: str, sample=None) -> dict:
    """The preview form (a contact the user may see, a language of `sources`) and the message rendered
    for them; without a choice, `sample` (the audience's first) or the first contact the user sees."""
    languages = [default_language, *(code for code in sources if code != default_language)]
    form = PreviewForm(request.GET if "contact" in request.GET or "language" in request.GET else None,
                       user=request.user, languages=languages)
    contact, language = sample, default_language
    if form.is_bound and form.is_valid():
        contact = form.cleaned_data["contact"] or contact
        language = form.cleaned_data["language"] or language
    if form.is_bound and form.is_valid() and form.cleaned_data["contact"] is not None:
        contact = Contact.objects.select_related(*templating.RELATED).get(pk=form.cleaned_data["contact"].pk)
    if contact is None:
        contact = (Contact.objects.visible_to(request.user).select_related(*templating.RELATED)
                   .order_by("last_name", "first_name", "id").first())
    if contact is not None and not form.is_bound:
        form.initial.update(contact=contact.pk, language=language)  # the picker shows whom the preview is for
    context: dict = {"preview_form": form, "preview_language": language}
    if contact is not None and language in sources:
        context["preview"] = {"to": contact, **_rendered(request, sources[language], contact, language).__dict__}
    return context


def _rendered(request, source: tuple[str, str, str], contact: Contact, language: str) -> mailings.Rendered:
    """A message as `contact` would get it; its links lead to a page that says it is only a preview."""
    subject, body, html = source
    base_url = request.build_absolute_uri("/").rstrip("/")
    return mailings.render(subject=subject, body=body, html=html, contact=contact, language=language,
                           unsubscribe_url=base_url + reverse("marketing:unsubscribe", args=["preview"]),
                           preferences_url=base_url + reverse("marketing:preferences", args=["preview"]))


def _back_to_preview(url: str, data) -> str:
    query = {key: data[key] for key in ("contact", "language") if data.get(key)}
    return url + ("?" + "&".join(f"{key}={to_int(value) if key == 'contact' else value}"
                                 for key, value in query.items()) if query else "") + "#preview"


def _send_test(request, sources: dict[str, tuple[str, str, str]], default_language: str) -> None:
    """The rendered message to the user's own address (never anyone else's), through the outbox; at most
    TEST_SENDS_PER_HOUR an hour per user."""
    languages = [default_language, *(code for code in sources if code != default_language)]
    form = PreviewForm(request.POST, user=request.user, languages=languages)
    if not form.is_valid():
        messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
        return
    contact = form.cleaned_data["contact"]
    if contact is None:
        messages.error(request, _("Choose the contact the test is made for."))
        return
    contact = Contact.objects.select_related(*templating.RELATED).get(pk=contact.pk)
    language = form.cleaned_data["language"] or default_language
    if not request.user.email:
        messages.error(request, _("Your profile has no e-mail address to send the test to."))
        return
    if not mailings.test_send_allowed(request.user):
        messages.error(request, _("You have sent %(count)s tests in the last hour: wait a little before the next.")
                       % {"count": mailings.TEST_SENDS_PER_HOUR})
        return
    mailings.send_test(rendered=_rendered(request, sources[language], contact, language), user=request.user,
                       language=language)
    messages.success(request, _("A test was sent to %(email)s.") % {"email": request.user.email})


def template_list(request):
    require_read(request.user, EmailTemplate)
    templates = (EmailTemplate.objects.visible_to(request.user).select_related("topic", "owner")
                 .prefetch_related("versions").order_by("name", "id"))
    page = paginate(templates, request.GET.get("page"))
    return render(request, "marketing/template_list.html", {
        "page": page, "can_create": can_create(request.user, EmailTemplate)})


def _template_form_page(request, template: EmailTemplate | None):
    form = EmailTemplateForm(request.POST or None, template=template)
    if request.method == "POST" and form.is_valid():
        template = services.template_save(actor=request.user, template=template, name=form.cleaned_data["name"],
                                          topic=form.cleaned_data["topic"], versions=form.cleaned_data["versions"])
        messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
        return redirect(template)
    return render(request, "marketing/template_form.html", {"form": form, "template": template,
                                                            "merge_fields": templating.FIELDS})


def template_create(request):
    require_create(request.user, EmailTemplate)
    return _template_form_page(request, None)


def template_edit(request, pk: int):
    return _template_form_page(request, get_editable_or_404(EmailTemplate, request.user, pk=pk))


def _template_sources(template: EmailTemplate) -> dict[str, tuple[str, str, str]]:
    return {version.language: (version.subject, templating.html_to_text(version.html), version.html)
            for version in template.versions.all()}


def template_detail(request, pk: int):
    template = get_visible_or_404(EmailTemplate.objects.select_related("topic", "owner").prefetch_related("versions"),
                                  request.user, pk=pk)
    sources = _template_sources(template)
    default = request.user.language if request.user.language in sources else next(iter(sources), "")
    context = {"template": template, "can_edit": can_edit(request.user, template),
               "languages": [str(dict(settings.LANGUAGES).get(code, code)) for code in sources],
               "campaigns": Campaign.objects.visible_to(request.user).filter(
                   status__in=[CampaignStatus.PLANNED, CampaignStatus.ACTIVE]).order_by("name", "id")[:100],
               "test_url": reverse("marketing:template_test", args=[template.pk])}
    if sources:
        context.update(_preview(request, sources, default))
    return render(request, "marketing/template_detail.html", context)


@require_POST
def template_test(request, pk: int):
    template = get_visible_or_404(EmailTemplate.objects.prefetch_related("versions"), request.user, pk=pk)
    sources = _template_sources(template)
    if sources:
        default = request.user.language if request.user.language in sources else next(iter(sources))
        _send_test(request, sources, default)
    return redirect(_back_to_preview(template.get_absolute_url(), request.POST))


def template_delete(request, pk: int):
    template = get_editable_or_404(EmailTemplate, request.user, pk=pk)
    if request.method == "POST":
        services.template_delete(template=template, actor=request.user)
        messages.success(request, _("Template “%(name)s” deleted. Mailings made from it keep their text.")
                         % {"name": template.name})
        return redirect("marketing:template_list")
    return render(request, "marketing/template_confirm_delete.html", {"template": template})


def template_use(request, pk: int):
    """"Use for a mailing": the campaign chosen on the template's page → the new-mailing form, filled."""
    template = get_visible_or_404(EmailTemplate, request.user, pk=pk)
    campaign = get_editable_or_404(Campaign, request.user, pk=to_int(request.GET.get("campaign")) or 0)
    return redirect(reverse("marketing:mailing_create", args=[campaign.pk]) + f"?template={template.pk}")


# --- New-product notices ---------------------------------------------------------------------------


def product_notice(request, product_pk: int):
    """Announce a new product: the topic of its family and a campaign chosen, a draft mailing made for the
    topic's subscribers; the marketer checks it on the mailing page and sends it there."""
    require_create(request.user, Mailing)
    product = get_visible_or_404(Product, request.user, pk=product_pk)
    form = ProductNoticeForm(request.POST or None, user=request.user, product=product)
    if request.method == "POST" and form.is_valid():
        mailing = notices.notice_create(actor=request.user, product=product, campaign=form.cleaned_data["campaign"],
                                        topic=form.cleaned_data["topic"])
        messages.success(request, _("The announcement is ready as a draft. Check it, then send it."))
        return redirect(mailing)
    return render(request, "marketing/product_notice.html", {
        "form": form, "product": product, "topics": list(notices.topics_for(product)),
        "subscribers": form.subscriber_counts()})


# --- Subscriptions ---------------------------------------------------------------------------------


def topic_list(request):
    """The subscription topics (admins define them), with how many contacts subscribe to each."""
    require_admin(request.user)
    form = TopicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        topic = subscriptions.topic_save(topic=None, **form.topic_fields())
        messages.success(request, _("Topic “%(name)s” added.") % {"name": topic.name})
        return redirect("marketing:topic_list")
    topics = Topic.objects.annotate(subscribers=Count("subscriptions")).order_by("-is_active", "name", "id")
    return render(request, "marketing/topic_list.html", {"topics": topics, "form": form})


def topic_edit(request, pk: int):
    require_admin(request.user)
    topic = get_object_or_404(Topic, pk=pk)
    form = TopicForm(request.POST or None, instance=topic)
    if request.method == "POST" and form.is_valid():
        subscriptions.topic_save(topic=topic, **form.topic_fields())
        messages.success(request, _("Topic “%(name)s” saved.") % {"name": topic.name})
        return redirect("marketing:topic_list")
    return render(request, "marketing/topic_form.html", {"topic": topic, "form": form})


def contact_topics(request, contact_pk: int):
    """Staff change a contact's topics and language; recorded with the source "staff" and who did it."""
    contact = get_editable_or_404(Contact, request.user, pk=contact_pk)
    if not can_read(request.user, Campaign):
        raise PermissionDenied
    initial = {"language": subscriptions.language_of(contact),
               "topics": list(subscriptions.subscribed_topic_ids(contact))}
    form = StaffTopicsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        subscriptions.staff_topics_save(contact=contact, actor=request.user, language=form.cleaned_data["language"],
                                        topics=form.cleaned_data["topics"])
        messages.success(request, _("The e-mail preferences of %(contact)s are saved.") % {"contact": contact})
        return redirect(contact.get_absolute_url())
    return render(request, "marketing/contact_topics.html", {
        "contact": contact, "form": form, "receives": subscriptions.receives_email(contact)})


@login_not_required
def preferences(request, token: str):
    """The public page behind the "choose your topics and language" link of every message. No sign-in:
    the signed link (with an expiry) is the check; CSRF stays on (the GET sets its cookie)."""
    check = subscriptions.contact_for_token(token)
    contact = check.contact
    if contact is None:
        return render(request, "marketing/preferences.html", {"invalid": True, "expired": check.expired},
                      status=410 if check.expired else 404)
    receives = subscriptions.receives_email(contact)
    initial = {"language": subscriptions.language_of(contact),
               "topics": list(subscriptions.subscribed_topic_ids(contact))}
    form = PreferencesForm(request.POST or None, initial=initial, receives_email=receives)
    if request.method == "POST" and form.is_valid():
        subscriptions.preferences_save(contact=contact, language=form.cleaned_data["language"],
                                       topics=form.cleaned_data["topics"],
                                       stop_all=form.cleaned_data.get("stop_all", False),
                                       resume=form.cleaned_data.get("resume", False))
        return redirect(f"{request.path}?saved=1")
    language = initial["language"]
    with translation.override(language or translation.get_language()):
        return render(request, "marketing/preferences.html", {
            "form": form, "address": contact.primary_email, "receives": receives,
            "saved": request.GET.get("saved") == "1", "page_language": language or translation.get_language()})


# --- Tracking (public) ---------------------------------------------------------------------------------


@login_not_required
def track_open(request, token: str):
    """The 1×1 image of a message's HTML part: the first load counts the open. A forged token: 404."""
    delivery = tracking.delivery_for_open(token)
    if delivery is not None:
        tracking.record_open(delivery)
    response = HttpResponse(tracking.PIXEL, content_type="image/gif", status=200 if delivery else 404)
    response["Cache-Control"] = "no-store, private"
    return response


@login_not_required
def track_click(request, token: str):
    """A tracked link: counts the first click and sends the reader on, only ever to a link the mailing
    contains (never an open redirect)."""
    click = tracking.click_for_token(token)
    if click is None:
        return render(request, "marketing/link_invalid.html", status=404)
    tracking.record_click(click.delivery, click.target)
    response = HttpResponseRedirect(click.target)
    response["Cache-Control"] = "no-store, private"
    return response


# --- Web-to-lead forms ------------------------------------------------------------------------------------


def webform_list(request):
    """The public web-to-lead forms (admins build them), with their leads so far."""
    require_admin(request.user)
    forms_ = WebForm.objects.select_related("campaign", "team").annotate(
        leads=Count("submissions", filter=Q(submissions__outcome=WebFormSubmission.Outcome.LEAD)),
        matched=Count("submissions", filter=Q(submissions__outcome=WebFormSubmission.Outcome.MATCHED)),
        refused=Count("submissions", filter=Q(submissions__outcome__in=[WebFormSubmission.Outcome.HONEYPOT,
                                                                        WebFormSubmission.Outcome.LIMITED])),
    ).order_by("-is_active", "name", "id")
    rows = [(form, request.build_absolute_uri(reverse("marketing:webform_public", args=[webforms.form_key(form.pk)])))
            for form in forms_]
    return render(request, "marketing/webform_list.html", {"rows": rows})


def webform_edit(request, pk: int | None = None):
    require_admin(request.user)
    web_form = get_object_or_404(WebForm, pk=pk) if pk else WebForm(created_by=request.user)
    form = WebFormForm(request.POST or None, instance=web_form, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        messages.success(request, _("Web form “%(name)s” saved.") % {"name": saved.name})
        return redirect("marketing:webform_list")
    snippets = webforms.snippets(web_form, request.build_absolute_uri("/")) if web_form.pk else None
    return render(request, "marketing/webform_form.html", {"form": form, "web_form": web_form, "snippets": snippets})


@login_not_required
def webform_public(request, key: str):
    """The public form: a lead for every genuine submission; robots (the honeypot) are thanked and
    ignored; more than the per-IP limit in an hour gets a message and creates nothing."""
    return _webform_page(request, key, embedded=False)


@login_not_required
@csrf_exempt  # a cross-site frame or a plain form on another site carries no CRM cookie; acts for no one
def webform_embed(request, key: str):
    """The same form for a frame on the customer's site: the only route other sites may frame, and only
    the sites listed on the form (any, when none is listed)."""
    response = _webform_page(request, key, embedded=True)
    if response.status_code != 404:
        response.xframe_options_exempt = True
        response._csp_config = {**settings.SECURE_CSP,
                                "frame-ancestors": webforms.frame_ancestors(response.web_form)}
    return response


def _webform_page(request, key: str, *, embedded: bool):
    web_form = webforms.form_for_key(key)
    if web_form is None:
        return render(request, "marketing/link_invalid.html", status=404)
    template = "marketing/webform_embed.html" if embedded else "marketing/webform_public.html"
    with translation.override(web_form.language):
        form = PublicLeadForm(request.POST or None, web_form=web_form)
        context = {"web_form": web_form, "form": form, "key": key}
        status = 200
        if request.method == "POST":
            ip = client_ip(request)
            if webforms.over_limit(ip):
                webforms.record_refusal(web_form, ip, WebFormSubmission.Outcome.LIMITED)
                context["limited"], status = True, 429
            elif request.POST.get("website"):
                webforms.record_refusal(web_form, ip, WebFormSubmission.Outcome.HONEYPOT)
                context["thanked"] = True
            elif form.is_valid():
                webforms.submit(form=web_form, ip=ip, data=form.cleaned_data)
                context["thanked"] = True
        response = render(request, template, context, status=status)
    response.web_form = web_form
    return response


# --- Telemarketing call lists ---------------------------------------------------------------


def _say_leads_left_out(request, leads: int) -> None:
    if leads:
        messages.info(request, ngettext(
            "%(count)s lead on the static list was left out: it is disqualified.",
            "%(count)s leads on the static list were left out: they are disqualified.", leads) % {"count": leads})


def call_list_create(request, campaign_pk: int):
    campaign = get_editable_or_404(Campaign, request.user, pk=campaign_pk)
    form = CallListForm(request.POST or None, user=request.user,
                        initial={"name": _("Calls: %(campaign)s") % {"campaign": campaign.name}})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            call_list = calllists.call_list_create(
                actor=request.user, campaign=campaign, name=data["name"], script=data["script"],
                segment=data["segment"], static_list=data["static_list"], distribution=data["distribution"],
                agents=list(data["agents"]))
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, ngettext("Call list %(name)s was built: %(count)s person to call.",
                                               "Call list %(name)s was built: %(count)s people to call.",
                                               call_list.items.count()) % {"name": call_list.name,
                                                                           "count": call_list.items.count()})
            _say_leads_left_out(request, call_list.left_out_leads)
            return redirect(call_list)
    return render(request, "marketing/call_list_form.html", {"form": form, "campaign": campaign})


def call_list_detail(request, pk: int):
    """The manager's view: progress per agent, the outcomes so far, the latest calls."""
    call_list = get_visible_or_404(CallList.objects.select_related("campaign", "owner", "segment", "static_list"),
                                   request.user, pk=pk)
    recent = list(with_visibility_flag(with_visibility_flag(
        CallListItem.objects.filter(call_list=call_list, called_at__isnull=False)
        .select_related("contact", "called_by", "lead", "lead_called"), request.user, "contact"),
        request.user, "lead_called").order_by("-called_at", "-id")[:MEMBER_ROWS])
    return render(request, "marketing/call_list_detail.html", {
        "call_list": call_list, "progress": calllists.progress(call_list), "recent": recent,
        "is_agent": calllists.is_agent(call_list, request.user),
        "may_manage": can_edit(request.user, call_list.campaign),
        "claim_minutes": calllists.CLAIM_MINUTES,
        "history": history_for(call_list, user=request.user, limit=HISTORY_SHOWN)})


def _managed_list_or_404(request, pk: int) -> CallList:
    """A list the user may see (else 404) and manage: whoever may edit its campaign (else 403)."""
    call_list = get_visible_or_404(CallList.objects.select_related("campaign"), request.user, pk=pk)
    if not can_edit(request.user, call_list.campaign):
        raise PermissionDenied
    return call_list


def call_list_edit(request, pk: int):
    """The list's name, script and agents; closing and reopening it."""
    call_list = _managed_list_or_404(request, pk)
    form = CallListEditForm(request.POST if request.method == "POST" else None, initial={
        "name": call_list.name, "script": call_list.script, "agents": list(call_list.agents.all())})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            handed = calllists.call_list_update(actor=request.user, call_list=call_list, name=data["name"],
                                                script=data["script"], agents=list(data["agents"]))
        except ValidationError as error:
            for field_name, errors in error.message_dict.items():
                form.add_error(field_name if field_name in form.fields else None, errors)
        else:
            text = _("Call list %(name)s was saved.") % {"name": call_list.name}
            if handed:
                text += " " + ngettext("%(count)s person went to the remaining agents.",
                                       "%(count)s people went to the remaining agents.", handed) % {"count": handed}
            messages.success(request, text)
            return redirect(call_list)
    return render(request, "marketing/call_list_edit.html", {"form": form, "call_list": call_list})


@require_POST
def call_list_close(request, pk: int):
    call_list = _managed_list_or_404(request, pk)
    if request.POST.get("reopen"):
        calllists.call_list_reopen(actor=request.user, call_list=call_list)
        messages.success(request, _("Call list %(name)s is open again: agents can call.") % {"name": call_list.name})
    else:
        calllists.call_list_close(actor=request.user, call_list=call_list)
        messages.success(request, _("Call list %(name)s is closed: it hands out nobody to call.")
                         % {"name": call_list.name})
    return redirect(call_list)


def call_list_add(request, pk: int):
    """More people for a built list, from a segment or a static list."""
    call_list = _managed_list_or_404(request, pk)
    form = CallListAddForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            added = calllists.call_list_add(actor=request.user, call_list=call_list,
                                            segment=form.cleaned_data["segment"],
                                            static_list=form.cleaned_data["static_list"])
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, ngettext(
                "%(count)s person was added to the list.", "%(count)s people were added to the list.",
                added.added) % {"count": added.added} + " " + _(
                "Already on it: %(already)s; left out: do not call %(dnc)s, no phone %(phone)s, no agent may open "
                "%(agent)s.") % {"already": added.already, "dnc": added.do_not_call, "phone": added.no_phone,
                                 "agent": added.no_agent})
            _say_leads_left_out(request, added.leads)
            return redirect(call_list)
    return render(request, "marketing/call_list_add.html", {"form": form, "call_list": call_list,
                                                            "limit": calllists.BUILD_LIMIT})


def call_list_entries(request, pk: int):
    """The open entries of a list, by agent, to hand over to another agent: an entry someone is
    calling now stays with them."""
    call_list = _managed_list_or_404(request, pk)
    agents = list(call_list.agents.order_by("first_name", "last_name", "id"))
    rows = (CallListItem.objects.filter(call_list=call_list, status__in=calllists.OPEN)
            .select_related("contact", "lead_called", "agent", "claimed_by").order_by("agent_id", "id"))
    agent_filter = request.GET.get("agent", "")
    if agent_filter == "shared":
        rows = rows.filter(agent__isnull=True)
    elif agent_filter.isdigit():
        rows = rows.filter(agent_id=int(agent_filter))
    page = paginate(with_visibility_flag(with_visibility_flag(rows, request.user, "contact"), request.user,
                                         "lead_called"), request.GET.get("page"),
                    per_page=MEMBER_ROWS * 2)
    form = CallReassignForm(request.POST if request.method == "POST" else None, call_list=call_list,
                            item_ids=[int(pk) for pk in request.POST.getlist("items") if pk.isdigit()]
                            if request.method == "POST" else [])
    if request.method == "POST" and form.is_valid():
        try:
            moved = calllists.call_items_reassign(actor=request.user, call_list=call_list,
                                                  item_ids=form.cleaned_data["items"], agent=form.cleaned_data["agent"])
        except ValidationError as error:
            for field_name, errors in error.message_dict.items():
                form.add_error(field_name if field_name in form.fields else None, errors)
        else:
            agent = form.cleaned_data["agent"]
            messages.success(request, ngettext("%(count)s person went to %(agent)s.",
                                               "%(count)s people went to %(agent)s.", moved.moved)
                             % {"count": moved.moved, "agent": agent})
            if moved.claimed:
                messages.warning(request, ngettext(
                    "%(count)s person is being called right now and stays with their agent.",
                    "%(count)s people are being called right now and stay with their agents.", moved.claimed)
                    % {"count": moved.claimed})
            if moved.unseen or moved.gone:
                messages.warning(request, _("Not handed over: %(unseen)s that %(agent)s may not open, %(gone)s "
                                            "already called.") % {"unseen": moved.unseen, "agent": agent,
                                                                  "gone": moved.gone})
            return redirect(request.get_full_path())
    return render(request, "marketing/call_list_entries.html", {
        "call_list": call_list, "page": page, "form": form, "agents": agents, "agent_filter": agent_filter,
        "live_after": timezone.now() - datetime.timedelta(minutes=calllists.CLAIM_MINUTES)})


def _agent_list_or_404(request, pk: int) -> CallList:
    """A list the user may see and works as one of its agents (others: 404, as a missing list)."""
    call_list = get_visible_or_404(CallList.objects.select_related("campaign"), request.user, pk=pk)
    if not calllists.is_agent(call_list, request.user):
        raise Http404
    return call_list


def call_list_work(request, pk: int):
    """The agent's screen: the next person (claimed for them), the phone, the script, the outcome."""
    call_list = _agent_list_or_404(request, pk)
    item = calllists.call_next(call_list=call_list, agent=request.user)
    return _work_page(request, call_list, item, CallOutcomeForm(initial={"item": item.pk} if item else None))


def _work_page(request, call_list: CallList, item, form):
    contact = lead = recent_calls = None
    if item is not None and item.lead_called_id:
        lead = Lead.objects.filter(pk=item.lead_called_id).first()
        recent_calls = list(Activity.objects.visible_to(request.user).filter(lead_id=item.lead_called_id,
                                                                             kind=ActivityKind.CALL)
                            .select_related("owner").order_by("-occurred_at", "-id")[:3])
    elif item is not None:
        contact = (Contact.objects.select_related("account").filter(pk=item.contact_id).first())
        recent_calls = list(Activity.objects.visible_to(request.user).filter(contact_id=item.contact_id,
                                                                             kind=ActivityKind.CALL)
                            .select_related("owner").order_by("-occurred_at", "-id")[:3])
    next_due = None
    if item is None:
        next_due = (CallListItem.objects.filter(call_list=call_list, status__in=calllists.OPEN,
                                                due_at__gt=timezone.now())
                    .filter(Q(agent=request.user) | Q(agent__isnull=True)).order_by("due_at")
                    .values_list("due_at", flat=True).first())
    return render(request, "marketing/call_list_work.html", {
        "call_list": call_list, "item": item, "contact": contact, "lead": lead, "recent_calls": recent_calls,
        "form": form,
        "next_due": next_due, "sees_leads": can_create(request.user, Lead),
        "creates_deals": can_create(request.user, Opportunity),
        "mine": calllists.progress_for(call_list, request.user)})


@require_POST
def call_list_log(request, pk: int):
    call_list = _agent_list_or_404(request, pk)
    form = CallOutcomeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            logged = calllists.call_log(call_list=call_list, agent=request.user, item_id=data["item"],
                                        result=data["result"], notes=data["notes"], callback_at=data["callback_at"],
                                        create_lead=data["create_lead"], create_deal=data["create_deal"],
                                        duration_minutes=data["duration_minutes"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field_name, errors in error.message_dict.items():
                    form.add_error(field_name if field_name in form.fields else None, errors)
            else:
                messages.error(request, " ".join(error.messages))
                return redirect("marketing:call_list_work", pk=call_list.pk)
        else:
            text = _("Logged: %(result)s.") % {"result": CallResult(data["result"]).label}
            if logged.lead is not None:
                text += " " + _("Lead %(lead)s was created.") % {"lead": logged.lead}
            if logged.opportunity is not None:
                text += " " + _("Deal %(deal)s was created.") % {"deal": logged.opportunity}
            if logged.qualified is not None:
                text += " " + _("Lead %(lead)s is qualified: convert it from its page when the sales team takes it "
                                "on.") % {"lead": logged.qualified}
            if logged.callback_task_id:
                text += " " + _("A call-back task with a reminder is in your day.")
            messages.success(request, text)
            return redirect("marketing:call_list_work", pk=call_list.pk)
    item = CallListItem.objects.filter(pk=form.data.get("item") if str(form.data.get("item", "")).isdigit() else 0,
                                       call_list=call_list, claimed_by=request.user,
                                       status__in=calllists.OPEN).first()
    if item is None:
        messages.error(request, _("This call is no longer yours to log: someone else took it, or it was logged."))
        return redirect("marketing:call_list_work", pk=call_list.pk)
    return _work_page(request, call_list, item, form)


@require_POST
def call_list_release(request, pk: int):
    call_list = _agent_list_or_404(request, pk)
    calllists.call_release(call_list=call_list, agent=request.user)
    messages.success(request, _("You stopped calling; the person you held is back in the queue."))
    return redirect(call_list)


# --- Bounced addresses ----------------------------------------------------------------------


def bounce_list(request):
    """The addresses mail bounced from for good, newest first, with the contacts that have them and a
    way to clear one (marketers and admins)."""
    if not bounces.may_manage(request.user):
        raise PermissionDenied
    term = request.GET.get("q", "").strip().lower()[:254]
    rows = BouncedAddress.objects.filter(suppressed_at__isnull=False).order_by("-suppressed_at", "-id")
    if term:
        rows = rows.filter(email__contains=term)
    page = paginate(rows, request.GET.get("page"), per_page=MEMBER_ROWS * 2)
    addresses = [row.email for row in page.rows]
    owners: dict[str, list] = {}
    if addresses:
        for contact in (Contact.objects.visible_to(request.user).filter(emails__overlap=addresses)
                        .only("id", "first_name", "middle_name", "last_name", "full_name", "emails")
                        .order_by("last_name", "id")[:MEMBER_ROWS * 4]):
            for address in {email.lower() for email in contact.emails} & set(addresses):
                owners.setdefault(address, []).append(contact)
    for row in page.rows:
        row.contacts = owners.get(row.email, [])
    return render(request, "marketing/bounce_list.html", {"page": page, "term": term})


@require_POST
def bounce_clear(request, pk: int):
    if not bounces.may_manage(request.user):
        raise PermissionDenied
    address = get_object_or_404(BouncedAddress, pk=pk)
    if bounces.bounce_clear(address=address, actor=request.user):
        messages.success(request, _("%(email)s is cleared: mailings go to it again.") % {"email": address.email})
    else:
        messages.info(request, _("%(email)s was not suppressed any more.") % {"email": address.email})
    return redirect("marketing:bounce_list")
