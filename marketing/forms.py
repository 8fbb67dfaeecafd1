from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import AbcClass, AccountTier, AccountType, RfmClass
from contacts.models import Contact
from crm.choices import LeadSource
from crm.models import Territory, User
from crm.translated import TranslationsFormMixin, clean_translations, languages
from crm.visibility import assignable_owners
from crm.widgets import use_autocomplete
from marketing import templating, webforms
from marketing.models import (
    CallDistribution,
    CallResult,
    Campaign,
    CampaignCost,
    EmailTemplate,
    MemberStatus,
    Segment,
    StaticList,
    Topic,
    WebForm,
)
from sales.models import Product

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_PARENT_DEPTH = 12


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "type", "status", "start_date", "end_date", "currency", "budget", "expected_revenue",
                  "parent", "owner", "shared_with_team", "description"]
        widgets = {"start_date": DATE_INPUT, "end_date": DATE_INPUT,
                   "currency": forms.TextInput(attrs={"maxlength": 3, "class": "text-uppercase"}),
                   "description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"currency": _("Three-letter ISO code, e.g. EUR, USD, RUB. Budget, costs and expected "
                                    "revenue are in this currency."),
                      "parent": _("A campaign can be part of a larger one (a webinar within a product launch).")}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        parents = Campaign.objects.visible_to(user).only("id", "name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents.order_by("name", "id")
        owners = assignable_owners(user)
        if self.instance.pk:
            owners = owners | User.objects.filter(pk=self.instance.owner_id)
        self.fields["owner"].queryset = owners.distinct()
        self.fields["owner"].required = False
        self.fields["owner"].help_text = _("Leave empty to own it yourself.")
        if not self.instance.pk:
            self.fields["currency"].initial = settings.DEFAULT_CURRENCY

    def clean_owner(self):
        owner = self.cleaned_data.get("owner")
        if owner is None:
            owner = self.instance.owner if self.instance.pk else self.user
        return owner

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise forms.ValidationError(_("Use a three-letter currency code such as EUR."))
        return currency

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent and self.instance.pk:
            # Walk up from the chosen parent: meeting this campaign would close a loop.
            node, depth = parent, 0
            while node is not None and depth < MAX_PARENT_DEPTH:
                if node.pk == self.instance.pk:
                    raise forms.ValidationError(_("A campaign cannot be part of itself or of one of its own parts."))
                node = Campaign.objects.filter(pk=node.parent_id).only("id", "parent_id").first() \
                    if node.parent_id else None
                depth += 1
        return parent

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The campaign cannot end before it starts."))
        return data


class CostForm(forms.ModelForm):
    class Meta:
        model = CampaignCost
        fields = ["description", "amount", "incurred_on"]
        widgets = {"description": forms.TextInput(attrs={"class": "form-control form-control-sm"}),
                   "amount": forms.NumberInput(attrs={"class": "form-control form-control-sm", "step": "0.01",
                                                      "min": "0.01"}),
                   "incurred_on": forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"},
                                                  format="%Y-%m-%d")}


class MemberAddForm(forms.Form):
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none())
    status = forms.ChoiceField(label=_("Status"), choices=MemberStatus.choices, initial=MemberStatus.TARGETED,
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        # Only people the user may see can be added: a forged id of a hidden contact is refused.
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        use_autocomplete(self.fields["contact"], reverse_lazy("autocomplete_contacts"))


class MemberStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=MemberStatus.choices)


class AttributionForm(forms.Form):
    campaign = forms.ModelChoiceField(label=_("Source campaign"), queryset=Campaign.objects.none(), required=False,
                                      empty_label=_("(none)"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.visible_to(user).order_by("name", "id")
        use_autocomplete(self.fields["campaign"], reverse_lazy("marketing:campaign_autocomplete"))


ANY_YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]
CONSENT = [("", _("Any")), ("opted_in", _("Agreed to marketing e-mail and never opted out")),
           ("not_opted_out", _("Has not opted out of marketing e-mail"))]
MAX_LIST = 50


def _words(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()][:MAX_LIST]


class SegmentForm(forms.Form):
    """A segment's name and its criteria, with no code: each field is one criterion, all of them
    must hold. `criteria()` gives the JSON that marketing/segments.py evaluates."""

    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    territory = forms.ModelChoiceField(label=_("Territory"), queryset=Territory.objects.order_by("name"),
                                       required=False, help_text=_("Includes the regions below it."))
    industries = forms.CharField(label=_("Industry"), required=False, max_length=1000,
                                 help_text=_("Any of these, comma-separated."))
    account_types = forms.MultipleChoiceField(label=_("Account type"), choices=AccountType.choices, required=False,
                                              widget=forms.CheckboxSelectMultiple)
    tiers = forms.MultipleChoiceField(label=_("Tier"), choices=AccountTier.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    abc_classes = forms.MultipleChoiceField(label=_("ABC class"), choices=AbcClass.choices, required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text=_("The account's class in the customer ranking."))
    rfm_classes = forms.MultipleChoiceField(label=_("RFM class"), choices=RfmClass.choices, required=False,
                                            widget=forms.CheckboxSelectMultiple)
    vip = forms.ChoiceField(label=_("VIP"), choices=ANY_YES_NO, required=False)
    tags = forms.CharField(label=_("Tags"), required=False, max_length=1000,
                           help_text=_("The contact or its account has any of these, comma-separated."))
    consent = forms.ChoiceField(label=_("Consent"), choices=CONSENT, required=False)
    exclude_do_not_call = forms.BooleanField(label=_("Leave out “do not call” contacts"), required=False)
    has_email = forms.BooleanField(label=_("Only contacts with an e-mail address"), required=False)
    lead_sources = forms.MultipleChoiceField(label=_("Lead source"), choices=LeadSource.choices, required=False,
                                             widget=forms.CheckboxSelectMultiple)
    owners = forms.ModelMultipleChoiceField(label=_("Owner"), queryset=User.objects.none(), required=False)
    topics = forms.ModelMultipleChoiceField(label=_("Subscribed to a topic"), queryset=Topic.objects.none(),
                                            required=False, widget=forms.CheckboxSelectMultiple,
                                            help_text=_("Any of these."))
    no_purchase_months = forms.IntegerField(label=_("No purchase in the last … months"), required=False,
                                            min_value=1, max_value=120)
    bought_product = forms.ModelChoiceField(label=_("Bought the product"), queryset=Product.objects.none(),
                                            required=False)

    LIST_FIELDS = ("industries", "tags")
    CRITERIA = ("territory", "industries", "account_types", "tiers", "abc_classes", "rfm_classes", "vip", "tags",
                "consent", "exclude_do_not_call", "has_email", "lead_sources", "owners", "topics", "no_purchase_months",
                "bought_product")

    def __init__(self, *args, user: User, preview: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owners"].queryset = User.objects.filter(is_active=True).order_by("first_name", "last_name")
        self.fields["owners"].widget.attrs["size"] = 4
        self.fields["topics"].queryset = Topic.objects.order_by("name", "id")
        self.fields["bought_product"].queryset = Product.objects.visible_to(user)
        use_autocomplete(self.fields["bought_product"], reverse_lazy("sales:product_autocomplete"))
        if preview:  # the live count needs only the criteria
            self.fields["name"].required = False

    @classmethod
    def initial_from(cls, segment: Segment) -> dict[str, Any]:
        initial: dict[str, Any] = {"name": segment.name, "description": segment.description, **segment.criteria}
        for name in cls.LIST_FIELDS:
            if isinstance(initial.get(name), list):
                initial[name] = ", ".join(initial[name])
        return initial

    def criteria(self) -> dict[str, Any]:
        data, out = self.cleaned_data, {}
        for name in self.CRITERIA:
            value = data.get(name)
            if name in self.LIST_FIELDS:
                value = _words(value or "")
            elif name in ("owners", "topics"):
                value = sorted(row.pk for row in value or [])
            elif name in ("territory", "bought_product"):
                value = value.pk if value else None
            if value not in (None, "", [], False):
                out[name] = value
        return out


class StaticListForm(forms.ModelForm):
    class Meta:
        model = StaticList
        fields = ["name", "description", "shared_with_team"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}


def check_merge_fields(form: forms.Form, names: list[str]) -> None:
    """Adds an error to each field naming a merge field that does not exist, with the valid ones."""
    for name in names:
        unknown = templating.unknown_fields(form.cleaned_data.get(name) or "")
        if unknown:
            form.add_error(name, _("Unknown merge field: %(unknown)s. Valid fields: %(valid)s.") % {
                "unknown": ", ".join("{" + field + "}" for field in unknown), "valid": templating.field_names()})


HTML_HELP = _("Basic formatting: paragraphs, headings, lists, bold, italics, links, tables, images over https. "
              "Anything else is removed when it is saved.")


class HtmlField(forms.CharField):
    """HTML typed in the editor: cleaned with the allow-list when the form is valid."""

    def __init__(self, *args, rows: int = 10, **kwargs):
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": rows, "class": "font-monospace",
                                                          "data-html-editor": "1"}))
        kwargs.setdefault("max_length", 200_000)
        super().__init__(*args, **kwargs)

    def clean(self, value):
        return templating.clean_html(super().clean(value)).strip()


class MailingForm(forms.Form):
    """A mailing's audience (a segment or a static list, optionally only a topic's subscribers), its
    language, subject and message (HTML, or plain text) with merge fields, and optional versions in the
    other languages."""

    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.none(), required=False)
    static_list = forms.ModelChoiceField(label=_("or a static list"), queryset=StaticList.objects.none(),
                                         required=False)
    topic = forms.ModelChoiceField(label=_("Topic"), queryset=Topic.objects.none(), required=False,
                                   empty_label=_("None (everyone who agreed to e-mail)"),
                                   help_text=_("Only the topic's subscribers receive it."))
    language = forms.ChoiceField(label=_("Language of the text"), choices=settings.LANGUAGES, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    html = HtmlField(label=_("Message"), required=False, help_text=HTML_HELP)
    body = forms.CharField(label=_("Plain-text part"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("Empty: made from the message (links as “text (url)”). Without a message "
                                       "above, the mailing is plain text only."))
    track = forms.BooleanField(label=_("Count opens and clicks"), required=False, initial=True,
                               help_text=_("Links go through the CRM and an invisible image counts opens."))
    hourly_limit = forms.IntegerField(label=_("At most per hour"), required=False, min_value=1, max_value=1_000_000,
                                      help_text=_("Messages of this mailing in any hour; empty: as fast as the "
                                                  "site allows."))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.visible_to(user).order_by("name", "id")
        self.fields["static_list"].queryset = StaticList.objects.visible_to(user).order_by("name", "id")
        self.fields["topic"].queryset = Topic.objects.filter(is_active=True).order_by("name", "id")
        self.fields["language"].initial = user.language or settings.LANGUAGE_CODE
        self.writer_language = self.fields["language"].initial
        for code, name in settings.LANGUAGES:
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": name}, max_length=200, required=False)
            self.fields[f"html_{code}"] = HtmlField(
                label=_("Message (%(language)s)") % {"language": name}, required=False, rows=6)
            self.fields[f"body_{code}"] = forms.CharField(
                label=_("Plain-text part (%(language)s)") % {"language": name}, required=False,
                widget=forms.Textarea(attrs={"rows": 3}))

    def version_fields(self):
        """(language name, subject field, HTML field, text field) for each language, for the template."""
        return [(name, self[f"subject_{code}"], self[f"html_{code}"], self[f"body_{code}"])
                for code, name in settings.LANGUAGES]

    def clean(self):
        data = super().clean()
        check_merge_fields(self, ["subject", "html", "body", *(f"{kind}_{code}" for code, _name in settings.LANGUAGES
                                                               for kind in ("subject", "html", "body"))])
        if bool(data.get("segment")) == bool(data.get("static_list")):
            raise forms.ValidationError(_("Send it either to a segment or to a static list."))
        data["language"] = data.get("language") or self.writer_language
        if not data.get("html") and not (data.get("body") or "").strip() and "subject" in data:
            self.add_error("html", _("Write the message."))
        data["body"] = (data.get("body") or "").strip() or templating.html_to_text(data.get("html", ""))
        versions = {}
        for code, _name in settings.LANGUAGES:
            subject, html = data.get(f"subject_{code}", "").strip(), data.get(f"html_{code}", "")
            body = (data.get(f"body_{code}") or "").strip()
            if not subject and not body and not html:
                continue
            if code == data.get("language"):
                self.add_error(f"subject_{code}", _("The main text is already in this language."))
            elif not subject:
                self.add_error(f"subject_{code}", _("Give this version a subject too."))
            elif not body and not html:
                self.add_error(f"html_{code}", _("Give this version a text too."))
            else:
                versions[code] = (subject, body or templating.html_to_text(html), html)
        data["versions"] = versions
        return data

    def mailing_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("segment", "static_list", "topic", "language",
                                                            "subject", "body", "html", "versions", "hourly_limit",
                                                            "track")}

    @staticmethod
    def initial_from(template: EmailTemplate, language: str) -> dict[str, Any]:
        """The form's first values from a template: its version in `language` as the main text (else its
        first), the others as versions, its topic."""
        versions = {version.language: version for version in template.versions.all()}
        main = language if language in versions else next(iter(versions), language)
        initial: dict[str, Any] = {"language": main, "topic": template.topic_id}
        for code, version in versions.items():
            if code == main:
                initial.update(subject=version.subject, html=version.html)
            else:
                initial.update({f"subject_{code}": version.subject, f"html_{code}": version.html})
        return initial


class EmailTemplateForm(forms.Form):
    """A reusable template: name, optional topic, a subject and HTML per language (at least one)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    topic = forms.ModelChoiceField(label=_("Topic"), queryset=Topic.objects.none(), required=False,
                                   empty_label=_("None"))

    def __init__(self, *args, template: EmailTemplate | None = None, **kwargs):
        if template is not None and "initial" not in kwargs:
            initial: dict[str, Any] = {"name": template.name, "topic": template.topic_id}
            for version in template.versions.all():
                initial.update({f"subject_{version.language}": version.subject,
                                f"html_{version.language}": version.html})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.fields["topic"].queryset = Topic.objects.order_by("name", "id")
        for code, name in settings.LANGUAGES:
            self.fields[f"subject_{code}"] = forms.CharField(
                label=_("Subject (%(language)s)") % {"language": name}, max_length=200, required=False)
            self.fields[f"html_{code}"] = HtmlField(label=_("Message (%(language)s)") % {"language": name},
                                                    required=False, help_text=HTML_HELP)

    def version_fields(self):
        return [(code, name, self[f"subject_{code}"], self[f"html_{code}"]) for code, name in settings.LANGUAGES]

    def clean(self):
        data = super().clean()
        check_merge_fields(self, [f"{kind}_{code}" for code, _name in settings.LANGUAGES
                                  for kind in ("subject", "html")])
        versions = {}
        for code, _name in settings.LANGUAGES:
            subject, html = (data.get(f"subject_{code}") or "").strip(), data.get(f"html_{code}") or ""
            if not subject and not html:
                continue
            if not subject:
                self.add_error(f"subject_{code}", _("Give this version a subject too."))
            elif not html:
                self.add_error(f"html_{code}", _("Give this version a text too."))
            else:
                versions[code] = (subject, html)
        if not versions and not self.errors:
            raise forms.ValidationError(_("Write the template in at least one language."))
        data["versions"] = versions
        return data


class ProductNoticeForm(forms.Form):
    """Announce a new product: the campaign it belongs to and the topic whose subscribers get it (those of
    the product's family first)."""

    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=Campaign.objects.none(),
                                      error_messages={"invalid_choice": _("Choose a campaign you may edit.")})
    topic = forms.ModelChoiceField(label=_("Send to the subscribers of"), queryset=Topic.objects.none(),
                                   error_messages={"invalid_choice": _("Choose an offered topic.")})

    def __init__(self, *args, user: User, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        from marketing.notices import topics_for

        self.product = product
        self.fields["campaign"].queryset = Campaign.objects.editable_by(user).order_by("-start_date", "name", "id")
        use_autocomplete(self.fields["campaign"], reverse_lazy("marketing:campaign_autocomplete"))
        # Only the topics of the product's family: a notice goes to those who asked for news of it.
        self.fields["topic"].queryset = topics_for(product)
        family = topics_for(product).first()
        if family is not None:
            self.fields["topic"].initial = family.pk

    def clean(self):
        data = super().clean()
        if not self.product.is_new:
            raise forms.ValidationError(_("Only a product marked as new can be announced."))
        return data

    def subscriber_counts(self) -> dict[int, int]:
        from django.db.models import Count

        return dict(self.fields["topic"].queryset.annotate(n=Count("subscriptions")).values_list("pk", "n"))


class PreviewForm(forms.Form):
    """The contact and language a template or a mailing is previewed with."""

    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False,
                                     error_messages={"invalid_choice": _("Choose a contact you may see.")})
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, required=False)

    def __init__(self, *args, user: User, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        names = dict(settings.LANGUAGES)
        self.fields["language"].choices = [(code, names.get(code, code)) for code in languages]
        use_autocomplete(self.fields["contact"], reverse_lazy("autocomplete_contacts"))


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(label=_("Send at"), widget=forms.DateTimeInput(
        attrs={"type": "datetime-local", "class": "form-control form-control-sm"}, format="%Y-%m-%dT%H:%M"))

    def clean_send_at(self):
        send_at = self.cleaned_data["send_at"]
        now = timezone.now()
        if send_at <= now:
            raise forms.ValidationError(_("Choose a time in the future."))
        if send_at > now + timedelta(days=366):
            raise forms.ValidationError(_("Choose a time within a year."))
        return send_at


class TopicForm(TranslationsFormMixin, forms.ModelForm):
    """A topic's name (as staff and, without a translation, customers read it) and its name in each
    language customers may choose, shown on the preference page in that language (crm/translated.py)."""

    class Meta:
        model = Topic
        fields = ["name", "description", "is_active", "product_family"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_translation_fields()
        stored = self.instance.description_translations or {}
        for code, language in languages():
            self.fields[f"description_{code}"] = forms.CharField(
                label=_("Description in %(language)s") % {"language": language}, required=False, max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Shown on the preference page to readers who use %(language)s; leave empty to show "
                            "the description above.") % {"language": language})
            self.initial.setdefault(f"description_{code}", stored.get(code, ""))

    def topic_fields(self) -> dict[str, Any]:
        descriptions = clean_translations({code: self.cleaned_data.get(f"description_{code}", "")
                                           for code, _language in languages()})
        return {"name": self.cleaned_data["name"], "description": self.cleaned_data["description"],
                "is_active": self.cleaned_data["is_active"], "translations": self.instance.translations,
                "description_translations": descriptions,
                "product_family": self.cleaned_data["product_family"].strip()}


def topic_choice_label(topic: Topic) -> str:
    """A topic on the preference page (and the staff's topics page): its name and description in the
    language the page speaks."""
    description = topic.description_in()
    if not description:
        return topic.name_in()
    return format_html('{} <span class="d-block small text-body-secondary topic-description">{}</span>',
                       topic.name_in(), description)


class PreferencesForm(forms.Form):
    """The customer's own choices on the public preference page."""

    language = forms.ChoiceField(label=_("Language of our e-mail"), required=False)
    topics = forms.ModelMultipleChoiceField(label=_("Topics"), queryset=Topic.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    stop_all = forms.BooleanField(label=_("Unsubscribe from all marketing e-mail"), required=False)
    resume = forms.BooleanField(label=_("Send me marketing e-mail again on the topics I chose"), required=False)

    def __init__(self, *args, receives_email: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("No preference")), *settings.LANGUAGES]
        self.fields["topics"].queryset = Topic.objects.filter(is_active=True).order_by("name", "id")
        # Read when the page renders, in the language it speaks (the reader's choice).
        self.fields["topics"].label_from_instance = topic_choice_label
        del self.fields["resume" if receives_email else "stop_all"]


class StaffTopicsForm(forms.Form):
    """Staff record a contact's topics and language (what the person asked for on the phone, at a
    fair …). The offered topics only; a contact's topics no longer offered stay as they are."""

    language = forms.ChoiceField(label=_("Language of marketing e-mail"), required=False)
    topics = forms.ModelMultipleChoiceField(label=_("Topics"), queryset=Topic.objects.none(), required=False,
                                            widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("No preference")), *settings.LANGUAGES]
        self.fields["topics"].queryset = Topic.objects.filter(is_active=True).order_by("name", "id")
        self.fields["topics"].label_from_instance = topic_choice_label


class WebFormForm(forms.ModelForm):
    """An admin builds a public web-to-lead form."""

    fields_asked = forms.MultipleChoiceField(
        label=_("Also ask for"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[("title", _("Job title")), ("company", _("Company")), ("phone", _("Phone")), ("city", _("City")),
                 ("country", _("Country")), ("message", _("Message"))],
        help_text=_("Name and e-mail are always asked."))

    class Meta:
        model = WebForm
        fields = ["name", "campaign", "team", "language", "consent_wording", "thank_you", "embed_origins",
                  "is_active"]
        widgets = {"consent_wording": forms.Textarea(attrs={"rows": 2}), "thank_you": forms.Textarea(attrs={"rows": 2}),
                   "embed_origins": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = Campaign.objects.visible_to(user).order_by("name", "id")
        self.fields["fields_asked"].initial = self.instance.fields if self.instance.pk else ["company", "message"]

    def clean_embed_origins(self) -> str:
        """Each line one site's origin (scheme, host and port, nothing else): it goes into the
        Content-Security-Policy `frame-ancestors` of the embedded form, so nothing else may pass."""
        origins = []
        for line in self.cleaned_data["embed_origins"].splitlines():
            if line.strip():
                origin = webforms.normalise_origin(line)
                if origin is None:
                    raise ValidationError(_("“%(line)s” is not a site address such as https://www.example.com.")
                                          % {"line": line.strip()[:100]})
                if origin not in origins:
                    origins.append(origin)
        if len(origins) > webforms.MAX_EMBED_ORIGINS:
            raise ValidationError(_("At most %(count)d sites.") % {"count": webforms.MAX_EMBED_ORIGINS})
        return "\n".join(origins)

    def save(self, commit=True):
        self.instance.fields = list(self.cleaned_data["fields_asked"])
        return super().save(commit=commit)


class PublicLeadForm(forms.Form):
    """What a visitor fills in on a public web form."""

    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100)
    email = forms.EmailField(label=_("E-mail"))
    title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    country = forms.CharField(label=_("Country"), max_length=100, required=False)
    message = forms.CharField(label=_("Message"), max_length=5000, required=False,
                              widget=forms.Textarea(attrs={"rows": 4}))
    consent = forms.BooleanField(required=True)
    # The honeypot: hidden from people (CSS and aria-hidden), filled in by robots.
    website = forms.CharField(required=False, label=_("Leave this empty"),
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def __init__(self, *args, web_form: WebForm, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("title", "company", "phone", "city", "country", "message"):
            if name not in web_form.fields:
                del self.fields[name]
        if web_form.consent_wording:
            self.fields["consent"].label = web_form.consent_wording
        else:
            del self.fields["consent"]

    def visible_fields_but_honeypot(self):
        return [field for field in self if field.name != "website"]


class CallListForm(forms.Form):
    """A call list for a campaign: its audience (a segment or a static list), its agents, how the calls
    are shared among them, and the script."""

    name = forms.CharField(label=_("Name"), max_length=200)
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.none(), required=False)
    static_list = forms.ModelChoiceField(label=_("or a static list"), queryset=StaticList.objects.none(),
                                         required=False)
    agents = forms.ModelMultipleChoiceField(label=_("Agents"), queryset=User.objects.none(),
                                            widget=forms.CheckboxSelectMultiple)
    distribution = forms.ChoiceField(label=_("Share the calls"), choices=CallDistribution.choices,
                                     initial=CallDistribution.EVEN, widget=forms.RadioSelect)
    script = forms.CharField(label=_("Script"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
                             help_text=_("What the agent says: the opening, the offer, answers to objections."))

    def __init__(self, *args, user: User, **kwargs):
        from marketing.calllists import agent_choices

        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = Segment.objects.visible_to(user).order_by("name", "id")
        self.fields["static_list"].queryset = StaticList.objects.visible_to(user).order_by("name", "id")
        self.fields["agents"].queryset = agent_choices()

    def clean(self):
        data = super().clean()
        if bool(data.get("segment")) == bool(data.get("static_list")):
            raise forms.ValidationError(_("Build it either from a segment or from a static list."))
        return data


class CallOutcomeForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    result = forms.ChoiceField(label=_("Outcome"), choices=CallResult.choices, widget=forms.RadioSelect)
    notes = forms.CharField(label=_("Notes"), required=False, max_length=5000,
                            widget=forms.Textarea(attrs={"rows": 3}))
    callback_at = forms.DateTimeField(label=_("Call back at"), required=False, widget=forms.DateTimeInput(
        attrs={"type": "datetime-local", "class": "form-control"}, format="%Y-%m-%dT%H:%M"))
    create_lead = forms.BooleanField(label=_("Create a lead for the sales team"), required=False, initial=True)
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=0,
                                          max_value=600)

    def clean(self):
        data = super().clean()
        if data.get("result") == CallResult.CALLBACK and not data.get("callback_at"):
            self.add_error("callback_at", _("Choose when to call back."))
        return data
