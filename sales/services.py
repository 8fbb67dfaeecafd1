"""Writes on pipelines and opportunities, and the helpers every sales document shares
(document numbers, optimistic locking, currency conversion)."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import User
from sales.models import (
    CurrencyRate,
    ForecastCategory,
    NumberSequence,
    Opportunity,
    OpportunityContactRole,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from sales.money import to_base
from webhooks.services import emit


class StaleWrite(Exception):
    """Somebody else changed the record since this person loaded it: their write is refused
    instead of silently overwriting the other change."""

    def __init__(self, current):
        super().__init__(f"{type(current).__name__} {current.pk} changed since it was read")
        self.current = current


def check_version(model, *, pk: int, expected: int | None):
    """Locks the row and refuses the write when it changed since `expected` (the lock_version the
    person's form or card was rendered with). Returns the locked, current row."""
    current = model.objects.select_for_update().get(pk=pk)
    if expected is not None and current.lock_version != expected:
        raise StaleWrite(current)
    return current


def bump_version(instance) -> None:
    instance.lock_version = F("lock_version") + 1


def next_number(kind: str, prefix: str, *, on: datetime.date | None = None, digits: int = 4) -> str:
    """The next gap-free number of a document kind in the year: Q-2026-0001 (T-2026-000123 with six
    digits). The sequence row is locked until the caller's transaction ends, so two documents never
    share a number."""
    year = (on or timezone.localdate()).year
    NumberSequence.objects.get_or_create(kind=kind, year=year)
    sequence = NumberSequence.objects.select_for_update().get(kind=kind, year=year)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"{prefix}-{year}-{sequence.last_value:0{digits}d}"


def amount_in_base(amount, currency: str):
    if currency == settings.DEFAULT_CURRENCY:
        return to_base(amount, None)
    rate = CurrencyRate.objects.filter(currency=currency).values_list("rate", flat=True).first()
    if rate is None:
        raise ValidationError({"currency": _("There is no exchange rate for %(currency)s yet: ask an administrator "
                                             "to add one.") % {"currency": currency}})
    return to_base(amount, rate)


def default_pipeline() -> Pipeline | None:
    return (Pipeline.objects.filter(active=True).order_by("-is_default", "position", "id").first())


# --- Opportunities -------------------------------------------------------------------


def _check_stage(opportunity: Opportunity) -> None:
    if opportunity.stage.pipeline_id != opportunity.pipeline_id:
        raise ValidationError({"stage": _("This stage belongs to another pipeline.")})
    if opportunity.stage.kind == StageKind.LOST and not opportunity.lost_reason:
        raise ValidationError({"lost_reason": _("Say why the deal was lost.")})


def _set_forecast_category(opportunity: Opportunity, from_stage: Stage | None) -> None:
    """Won and lost deals leave the forecast's open categories (a won deal never reads "Pipeline");
    a reopened deal starts again in "Pipeline"."""
    kind = opportunity.stage.kind
    if kind == StageKind.WON:
        opportunity.forecast_category = ForecastCategory.CLOSED
    elif kind == StageKind.LOST:
        opportunity.forecast_category = ForecastCategory.OMITTED
    elif from_stage is not None and from_stage.kind != StageKind.OPEN:
        opportunity.forecast_category = ForecastCategory.PIPELINE
    elif opportunity.forecast_category == ForecastCategory.CLOSED:
        raise ValidationError({"forecast_category": _("“Closed” is for won deals: choose an open category.")})


def _record_stage_change(opportunity: Opportunity, *, from_stage: Stage | None, actor: User | None,
                         previous_since: datetime.datetime | None) -> StageChange:
    now = timezone.now()
    opportunity.stage_changed_at = now
    if opportunity.stage.kind == StageKind.OPEN:
        opportunity.closed_at = None
    elif from_stage is None or from_stage.kind == StageKind.OPEN or opportunity.closed_at is None:
        opportunity.closed_at = now
    return StageChange(
        opportunity=opportunity, from_stage=from_stage, to_stage=opportunity.stage, changed_by=actor, changed_at=now,
        amount=opportunity.amount, probability=opportunity.probability,
        seconds_in_previous=int((now - previous_since).total_seconds()) if previous_since else None,
    )


@transaction.atomic
def opportunity_create(*, actor: User, owner: User | None = None, contact_roles=(), **fields) -> Opportunity:
    owner = owner or actor
    opportunity = Opportunity(owner=owner, team_id=owner.team_id, **fields)
    if opportunity.probability is None and opportunity.stage_id:
        opportunity.probability = opportunity.stage.probability
    if opportunity.stage_id and opportunity.stage.kind == StageKind.WON:
        opportunity.probability = 100
    elif opportunity.stage_id and opportunity.stage.kind == StageKind.LOST:
        opportunity.probability = 0
    opportunity.amount_base = amount_in_base(opportunity.amount, opportunity.currency)
    if opportunity.stage_id:
        _set_forecast_category(opportunity, None)
    opportunity.full_clean()
    _check_stage(opportunity)
    change = _record_stage_change(opportunity, from_stage=None, actor=actor, previous_since=None)
    opportunity.save()
    change.save()
    for contact, role in contact_roles:
        OpportunityContactRole.objects.get_or_create(opportunity=opportunity, contact=contact,
                                                     defaults={"role": role})
    if opportunity.primary_contact_id:
        OpportunityContactRole.objects.get_or_create(opportunity=opportunity, contact_id=opportunity.primary_contact_id,
                                                     defaults={"role": "decision_maker"})
    emit("opportunity.created", opportunity, actor=actor)
    return opportunity


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, actor: User, expected_version: int | None = None,
                       **fields) -> Opportunity:
    """Saves a change; a change of stage is recorded like a move on the board. Raises StaleWrite
    when the opportunity changed since `expected_version`."""
    current = check_version(Opportunity, pk=opportunity.pk, expected=expected_version)
    from_stage, previous_since = current.stage, current.stage_changed_at
    for name, value in fields.items():
        setattr(opportunity, name, value)
    if "owner" in fields:
        opportunity.team_id = opportunity.owner.team_id  # the record follows its owner's team
    stage_changed = opportunity.stage_id != from_stage.pk
    if stage_changed and "probability" not in fields:
        opportunity.probability = opportunity.stage.probability
    if opportunity.stage.kind == StageKind.WON:
        opportunity.probability = 100
    elif opportunity.stage.kind == StageKind.LOST:
        opportunity.probability = 0
    if opportunity.stage.kind != StageKind.LOST:
        opportunity.lost_reason, opportunity.lost_note = "", ""
    opportunity.amount_base = amount_in_base(opportunity.amount, opportunity.currency)
    _set_forecast_category(opportunity, from_stage)
    opportunity.full_clean()
    _check_stage(opportunity)
    change = None
    if stage_changed:
        change = _record_stage_change(opportunity, from_stage=from_stage, actor=actor, previous_since=previous_since)
    bump_version(opportunity)
    opportunity.save()
    opportunity.refresh_from_db(fields=["lock_version"])
    if change:
        change.save()
        _emit_stage(opportunity, actor)
    emit("opportunity.updated", opportunity, actor=actor)
    return opportunity


def _emit_stage(opportunity: Opportunity, actor: User) -> None:
    emit("opportunity.stage_changed", opportunity, actor=actor)
    if opportunity.stage.kind == StageKind.WON:
        emit("opportunity.won", opportunity, actor=actor)
    elif opportunity.stage.kind == StageKind.LOST:
        emit("opportunity.lost", opportunity, actor=actor)


@transaction.atomic
def opportunity_move(*, opportunity: Opportunity, stage: Stage, actor: User, expected_version: int | None,
                     lost_reason: str = "", lost_note: str = "") -> Opportunity:
    """A card dragged to another column. Two people moving the same card at once: the second
    move names the version it saw, finds a newer one and is refused (StaleWrite)."""
    fields: dict[str, object] = {"stage": stage}
    if stage.kind == StageKind.LOST:
        fields.update(lost_reason=lost_reason, lost_note=lost_note)
    return opportunity_update(opportunity=opportunity, actor=actor, expected_version=expected_version, **fields)


@transaction.atomic
def opportunity_win_from_quote(*, quote, actor: User, expected_version: int | None) -> Opportunity:
    """The customer accepted the quote: its deal moves to the pipeline's won stage with the quote's net
    amount (after discounts, before tax) and currency. Only an accepted quote of an open deal."""
    from sales.models import QuoteStatus

    opportunity = quote.opportunity
    if quote.status != QuoteStatus.ACCEPTED or opportunity is None:
        raise ValidationError(_("Only an accepted quote of a deal can mark it as won."))
    if opportunity.stage.kind != StageKind.OPEN:
        raise ValidationError(_("This deal is already closed."))
    won = opportunity.pipeline.stages.filter(active=True, kind=StageKind.WON).order_by("position").first()
    if won is None:
        raise ValidationError(_("The %(pipeline)s pipeline has no won stage.") % {"pipeline": opportunity.pipeline})
    return opportunity_update(opportunity=opportunity, actor=actor, expected_version=expected_version, stage=won,
                              amount=quote.subtotal - quote.discount_total, currency=quote.currency)


@transaction.atomic
def opportunity_delete(*, opportunity: Opportunity, actor: User) -> None:
    opportunity.deleted_at = timezone.now()
    opportunity.save(update_fields=["deleted_at", "updated_at"])
    emit("opportunity.deleted", opportunity, actor=actor)


@transaction.atomic
def opportunities_assign(*, actor: User, opportunities, owner: User) -> int:
    return opportunities.update(owner=owner, team=owner.team, updated_at=timezone.now(),
                                lock_version=F("lock_version") + 1)


# --- Pipelines ------------------------------------------------------------------------


@transaction.atomic
def pipeline_save(*, form, formset, actor: User) -> Pipeline:
    """Saves a pipeline and its stages (admin page). The default flag moves, never duplicates."""
    pipeline = form.save(commit=False)
    if pipeline.is_default:
        Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk).update(is_default=False)
    pipeline.save()
    formset.instance = pipeline
    formset.save()  # a deleted stage with deals raises ProtectedError and rolls everything back
    return pipeline
