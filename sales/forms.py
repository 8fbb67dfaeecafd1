from django import forms
from django.conf import settings
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from contacts.models import Contact
from crm.custom_fields import OwnedRecordFormMixin
from crm.models import CustomFieldTarget, User
from crm.translated import TranslationsFormMixin, languages
from crm.widgets import use_autocomplete
from sales.models import ContactRole, LostReason, Opportunity, Pipeline, Stage, StageKind

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CURRENCY_HELP = _("Three-letter ISO code, e.g. EUR, USD, GBP.")
MISSING_VERSION = _("This form does not say which version of the record it was opened on, so saving it could "
                    "overwrite someone else's change. Reload the page and make your change again.")


def require_version(form: forms.Form, field: str) -> None:
    """An edit names the version it was opened on: without it the save is refused, never done blind."""
    if form.instance.pk and form.cleaned_data.get(field) is None:
        form.add_error(None, MISSING_VERSION)


class OpportunityForm(OwnedRecordFormMixin, forms.ModelForm):
    custom_target = CustomFieldTarget.OPPORTUNITY
    # The version the person loaded: a save over a newer version is refused (optimistic locking).
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Opportunity
        fields = [
            "name", "account", "primary_contact", "pipeline", "stage", "amount", "currency", "probability",
            "expected_close_date", "forecast_category", "next_step", "lead_source", "competitors",
            "lost_reason", "lost_note", "owner", "shared_with_team", "description",
        ]
        widgets = {"expected_close_date": DATE_INPUT, "description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"currency": CURRENCY_HELP,
                      "probability": _("Leave empty to use the stage's default.")}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.visible_to(user).only("id", "name")
        use_autocomplete(self.fields["account"], reverse_lazy("autocomplete_accounts"))
        self.fields["primary_contact"].queryset = Contact.objects.visible_to(user)
        use_autocomplete(self.fields["primary_contact"], reverse_lazy("autocomplete_contacts"))
        self.fields["pipeline"].queryset = Pipeline.objects.filter(active=True)
        self.fields["stage"].queryset = Stage.objects.filter(active=True, pipeline__active=True).select_related(
            "pipeline")
        self.fields["stage"].label_from_instance = lambda stage: f"{stage.pipeline} › {stage}"
        self.fields["probability"].required = False
        self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        if self.instance.pk:
            self.fields["lock_version"].initial = self.instance.lock_version
        self.setup_owned_fields(user)

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError(_("Use a three-letter currency code such as EUR."))
        return currency

    def clean(self):
        data = super().clean()
        require_version(self, "lock_version")
        stage, pipeline = data.get("stage"), data.get("pipeline")
        if stage and pipeline and stage.pipeline_id != pipeline.pk:
            self.add_error("stage", _("Pick a stage of the %(pipeline)s pipeline.") % {"pipeline": pipeline})
        if stage and stage.kind == StageKind.LOST and not data.get("lost_reason"):
            self.add_error("lost_reason", _("Say why the deal was lost."))
        if stage and (data.get("probability") is None or self._stage_changed_keeping_old_probability(stage, data)):
            data["probability"] = stage.probability
        contact, account = data.get("primary_contact"), data.get("account")
        if contact and account and contact.account_id not in (None, account.pk):
            self.add_error("primary_contact", _("This person works for another account."))
        return data

    def _stage_changed_keeping_old_probability(self, stage, data) -> bool:
        """A new stage with the probability field left as it was: the new stage's default applies."""
        old = self.instance
        return bool(old.pk) and stage.pk != old.stage_id and data.get("probability") == old.probability

    def model_fields(self) -> dict:
        data = super().model_fields()
        data.pop("lock_version", None)
        return data


class MoveForm(forms.Form):
    """A card dropped on another column, or a stage clicked on the opportunity page."""

    opportunity = forms.IntegerField()
    stage = forms.ModelChoiceField(queryset=Stage.objects.filter(active=True))
    lock_version = forms.IntegerField()
    lost_reason = forms.ChoiceField(choices=[("", "—"), *LostReason.choices], required=False)
    lost_note = forms.CharField(max_length=300, required=False)

    def clean(self):
        data = super().clean()
        stage = data.get("stage")
        if stage and stage.kind == StageKind.LOST and not data.get("lost_reason"):
            raise forms.ValidationError(_("Say why the deal was lost."), code="lost_reason")
        return data


class ContactRoleForm(forms.Form):
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label=_("Contact"))
    role = forms.ChoiceField(choices=ContactRole.choices, label=_("Role"))

    def __init__(self, *args, user: User, account_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        use_autocomplete(self.fields["contact"], f"{reverse_lazy('autocomplete_contacts')}?account={account_id}")


# --- Pipelines (admins) --------------------------------------------------------------------


class PipelineForm(TranslationsFormMixin, forms.ModelForm):
    class Meta:
        model = Pipeline
        fields = ["name", "position", "is_default", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_translation_fields()


class StageFormSet(BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:  # the row's delete box is labelled like the other cells
            form.fields["DELETE"].widget.attrs.update({"class": "form-check-input", "aria-label": str(_("Delete"))})

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kinds, names = [], set()
        for form in self.forms:
            data = form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            name = data["name"].strip().lower()
            if name in names:
                raise forms.ValidationError(_("Two stages are called “%(name)s”.") % {"name": data["name"]})
            names.add(name)
            if data.get("active", True):
                kinds.append(data["kind"])
        missing = [label for kind, label in StageKind.choices if kind not in kinds]
        if missing:
            raise forms.ValidationError(
                _("A pipeline needs at least one active stage of each kind; missing: %(kinds)s.")
                % {"kinds": ", ".join(str(label) for label in missing)})


# A new pipeline starts from the usual stages (rename or delete what does not fit); an existing
# one gets three empty rows to add stages.
STARTER_STAGES = [
    (_("Qualification"), 10, StageKind.OPEN), (_("Needs analysis"), 25, StageKind.OPEN),
    (_("Proposal"), 50, StageKind.OPEN), (_("Negotiation"), 75, StageKind.OPEN),
    (_("Won"), 100, StageKind.WON), (_("Lost"), 0, StageKind.LOST),
]


class StageForm(TranslationsFormMixin, forms.ModelForm):
    """One row of the stages table: compact controls, each labelled for screen readers; the name in
    other languages folds out under the name."""

    class Meta:
        model = Stage
        fields = ["name", "position", "probability", "kind", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = {"active": "form-check-input", "kind": "form-select form-select-sm"}.get(
                name, "form-control form-control-sm")
            field.widget.attrs.update({"class": css, "aria-label": str(field.label)})
        self.add_translation_fields()  # labelled by their own <label>, under the name
        for field in self.translation_fields():
            field.field.widget.attrs["class"] = "form-control form-control-sm"
            field.field.help_text = ""

    def translation_fields(self) -> list:
        return [self[self.translation_field_name(code)] for code, _name in languages()]

    def row_fields(self) -> list:
        """The table's cells after the name: the form's own fields, not the translations under it."""
        translations = {self.translation_field_name(code) for code, _name in languages()}
        return [field for field in self.visible_fields() if field.name != "name" and field.name not in translations]


def _starter_translations(name) -> dict[str, str]:
    """A starter stage comes named in every language the CRM speaks."""
    result = {}
    for code, _language in languages():
        with translation.override(code):
            result[f"name_{code}"] = str(name)
    return result


def stage_formset(data, pipeline: Pipeline):
    fields = ["name", "position", "probability", "kind", "active"]
    if pipeline.pk:
        factory = inlineformset_factory(Pipeline, Stage, form=StageForm, formset=StageFormSet, fields=fields, extra=3,
                                        can_delete=True)
        return factory(data, instance=pipeline, prefix="stages")
    factory = inlineformset_factory(Pipeline, Stage, form=StageForm, formset=StageFormSet, fields=fields,
                                    extra=len(STARTER_STAGES) + 2, can_delete=True)
    # Initial values only to show the form: on submit, rows equal to their initial values would
    # count as unchanged and be skipped, so the posted rows are read as typed.
    initial = None if data else [
        {"name": str(name), "position": index, "probability": probability, "kind": kind, "active": True,
         **_starter_translations(name)}
        for index, (name, probability, kind) in enumerate(STARTER_STAGES)]
    return factory(data, instance=pipeline, prefix="stages", initial=initial)
