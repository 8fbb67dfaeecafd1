from django import forms
from django.utils.translation import gettext_lazy as _

from crm.phones import region_choices
from imports import destinations
from imports.models import DuplicatePolicy


class UploadForm(forms.Form):
    target = forms.ChoiceField(label=_("Import into"))
    file = forms.FileField(label=_("CSV or XLSX file, up to 50 MB"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx"}))

    def __init__(self, *args, importers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [(i.key, i.label) for i in importers]


class MappingForm(forms.Form):
    duplicate_policy = forms.ChoiceField(label=_("When a row matches an existing record"),
                                         choices=DuplicatePolicy.choices, widget=forms.RadioSelect,
                                         initial=DuplicatePolicy.SKIP)
    clear_empty = forms.BooleanField(label=_("Empty cells clear fields (when updating)"), required=False)
    phone_region = forms.ChoiceField(
        label=_("Phone numbers without a country code are from"), choices=region_choices, required=False,
        help_text=_("Numbers written with a country code (+7 …, +44 …) are read as written."))
    create_accounts = forms.BooleanField(
        label=_("Create the accounts that do not exist yet"), required=False,
        help_text=_("Rows are linked to an existing account by tax number, then by name; an organisation not "
                    "found becomes a new account that you own."))
    template_name = forms.CharField(label=_("Save this mapping as"), max_length=80, required=False)
    template_shared = forms.BooleanField(label=_("Share the mapping with everyone"), required=False)

    def __init__(self, *args, job, specs, **kwargs):
        super().__init__(*args, **kwargs)
        self.specs = specs
        self.job = job
        # Options other modules add (imports/destinations.py): only those offered to this user and target.
        self.destinations = []
        for destination in destinations.for_target(job.target):
            extra = destination.fields(job.user, job.target)
            if extra:
                self.fields.update(extra)
                self.destinations.append((destination, list(extra)))
        if not {"account_name", "account_tax"} & {spec.key for spec in specs}:
            del self.fields["create_accounts"]  # only importers that link accounts create them
        choices = [("", _("— do not import —"))] + [(spec.key, spec.label) for spec in specs]
        self.column_names = []
        for index, header in enumerate(job.headers):
            name = f"col_{index}"
            self.fields[name] = forms.ChoiceField(label=header, choices=choices, required=False, widget=forms.Select(
                attrs={"class": "form-select form-select-sm"}))
            self.column_names.append(name)

    def column_fields(self):
        return [self[name] for name in self.column_names]

    def destination_fields(self):
        return [self[name] for _destination, names in self.destinations for name in names]

    def clean(self):
        data = super().clean()
        used = {}
        multiple = {spec.key for spec in self.specs if spec.multiple}
        for name in self.column_names:
            key = data.get(name)
            if not key:
                continue
            if key in used and key not in multiple:
                self.add_error(name, _("Two columns are mapped to the same field."))
            used[key] = name
        for spec in self.specs:
            if spec.required and spec.key not in used:
                raise forms.ValidationError(_("Map a column to “%(field)s”: it is required.") % {"field": spec.label})
        self.chosen_destinations = {}
        for destination, names in self.destinations:
            if any(name in self.errors for name in names):
                continue
            try:
                self.chosen_destinations[destination.key] = destination.options(self.job.user, self.job.target, data)
            except forms.ValidationError as error:
                self.add_error(names[0], error)
        return data

    def mapping(self) -> dict[str, str]:
        return {name.removeprefix("col_"): self.cleaned_data[name] for name in self.column_names
                if self.cleaned_data.get(name)}
