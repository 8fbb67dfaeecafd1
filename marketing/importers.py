"""Marketing in the import wizard: "put every imported row on a static list" (imports/destinations.py).

Imports names no module: this file registers the option, and the wizard offers it (on contacts and leads
imports, to those who may create static lists) only because marketing is installed."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from contacts.models import Contact
from crm.urlcache import pk_url
from crm.visibility import can_create
from imports import destinations
from marketing import services
from marketing.models import StaticList
from sales.models import Lead

KEY = "marketing.static_list"
LIST_FIELD = "marketing_static_list__list"
NAME_FIELD = "marketing_static_list__name"
NEW = "new"
CHOICES_SHOWN = 200  # the newest-named lists offered; any list the user may edit is accepted


def _list_id(value) -> int | None:
    return int(value) if str(value).isdigit() else None


class StaticListChoice(forms.ChoiceField):
    """The user's lists; a value is valid when it names a list the user may edit now (checked in the
    database, so a forged id of someone else's list or of no list is refused like a missing one)."""

    def __init__(self, *, user, **kwargs):
        self.user = user
        lists = StaticList.objects.editable_by(user).order_by("name", "id").values_list("id", "name")
        choices = [("", _("— no —")), (NEW, _("A new list, named below")),
                   *((str(pk), name) for pk, name in lists[:CHOICES_SHOWN])]
        super().__init__(choices=choices, required=False, **kwargs)

    def valid_value(self, value):
        if value in ("", NEW):
            return True
        list_id = _list_id(value)
        return list_id is not None and StaticList.objects.editable_by(self.user).filter(pk=list_id).exists()


def _fields(user, target) -> dict:
    if not can_create(user, StaticList):
        return {}
    return {
        LIST_FIELD: StaticListChoice(
            user=user, label=gettext_lazy("Also add the imported rows to a static list"),
            help_text=gettext_lazy("Every row imported, updated or matched to a record you may edit goes on the "
                                   "list; rows that failed do not. People already on it stay once."),
            error_messages={"invalid_choice": gettext_lazy("That static list is not one you may add to.")}),
        NAME_FIELD: forms.CharField(label=gettext_lazy("Name of the new list"), max_length=200, required=False),
    }


def _options(user, target, data) -> dict | None:
    choice = data.get(LIST_FIELD) or ""
    if not choice:
        return None
    if choice == NEW:
        name = (data.get(NAME_FIELD) or "").strip()
        if not name:
            raise forms.ValidationError(_("Name the new static list, or choose one of yours."))
        return {"new": name}
    return {"list": int(choice)}


def _start(job, options) -> dict:
    if "new" in options:
        static_list = services.static_list_create(actor=job.user, name=options["new"])
        return {"list": static_list.pk}
    return options


def _usable_list(job, options) -> StaticList | None:
    """The list, if the job's user may still edit it (it may have been deleted or handed over since)."""
    list_id = options.get("list")
    return StaticList.objects.editable_by(job.user).filter(pk=list_id).first() if list_id else None


def _add(job, options, object_ids) -> int:
    static_list = _usable_list(job, options)
    if static_list is None:
        return 0
    if job.target == "sales.lead":
        leads = Lead.objects.visible_to(job.user).filter(pk__in=object_ids)
        return services.static_list_add_leads(static_list=static_list, actor=job.user, leads=leads)
    contacts = Contact.objects.visible_to(job.user).filter(pk__in=object_ids)
    return services.static_list_add(static_list=static_list, actor=job.user, contacts=contacts)


def _describe(job, options) -> str:
    if "new" in options:
        return _("The imported rows will also be added to a new static list “%(list)s”.") % {"list": options["new"]}
    static_list = _usable_list(job, options)
    if static_list is None:
        return _("The static list chosen for this import is no longer one you may add to: nobody will be added.")
    return _("The imported rows will also be added to the static list “%(list)s”.") % {"list": static_list.name}


def _result(job, options, counts) -> tuple[str, str, str]:
    static_list = _usable_list(job, options)
    if static_list is None:
        return (_("The static list chosen for this import is no longer one you may add to: nobody was added."),
                "", "")
    added, rows = counts.get("added", 0), counts.get("rows", 0)
    text = ngettext("%(count)s person was added to the static list “%(list)s”.",
                    "%(count)s people were added to the static list “%(list)s”.", added) % {
        "count": added, "list": static_list.name}
    if rows > added:
        text += " " + ngettext("%(count)s was on it already.", "%(count)s were on it already.", rows - added) % {
            "count": rows - added}
    return text, pk_url("marketing:static_list_detail", static_list.pk), _("Open the list")


def _initial(options) -> dict:
    return {LIST_FIELD: str(options["list"])} if "list" in options else {LIST_FIELD: NEW, NAME_FIELD: options["new"]}


destinations.register(destinations.Destination(
    key=KEY, targets=("contacts.contact", "sales.lead"), fields=_fields, options=_options, add=_add,
    result=_result, describe=_describe, start=_start, initial=_initial))
