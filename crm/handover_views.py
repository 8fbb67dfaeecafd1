from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import handover, visibility
from crm.models import HandOver, User
from crm.visibility import assignable_owners


def _managed_people(actor: User):
    if actor.is_admin:
        return User.objects.all()
    return User.objects.filter(team_id__in=visibility.managed_team_ids(actor))


class HandOverForm(forms.Form):
    from_user = forms.ModelChoiceField(label=gettext_lazy("From"), queryset=User.objects.none())
    to_user = forms.ModelChoiceField(label=gettext_lazy("To"), queryset=User.objects.none())
    kinds = forms.MultipleChoiceField(label=gettext_lazy("What moves"), widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(label=gettext_lazy("Note (why)"), max_length=300, required=False)

    def __init__(self, *args, actor: User, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(kind.key, kind.label) for kind in handover.kinds()]
        self.fields["kinds"].choices = choices
        self.fields["kinds"].initial = [key for key, _label in choices]
        self.fields["from_user"].queryset = _managed_people(actor).order_by("-is_active", "first_name")
        self.fields["to_user"].queryset = assignable_owners(actor).filter(is_active=True).order_by("first_name")

    def clean(self):
        data = super().clean()
        if data.get("from_user") and data.get("from_user") == data.get("to_user"):
            raise forms.ValidationError(_("Choose two different people."))
        return data


def handover_page(request):
    actor = request.user
    if not (actor.is_admin or visibility.managed_team_ids(actor)):
        raise PermissionDenied
    form = HandOverForm(request.POST or None, actor=actor, initial={"from_user": request.GET.get("from")})
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if "confirm" in request.POST:
            try:
                record = handover.handover_run(actor=actor, from_user=data["from_user"], to_user=data["to_user"],
                                               kinds=data["kinds"], note=data["note"])
            except ValueError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Handed over to %(to)s: %(moved)s.") % {
                    "to": record.to_user, "moved": handover.describe(record.counts)})
                return redirect("handover")
        preview = handover.handover_preview(actor=actor, from_user=data["from_user"], kinds=data["kinds"])
    past = HandOver.objects.select_related("from_user", "to_user", "actor")
    if not actor.is_admin:
        people = _managed_people(actor).values("pk")
        past = past.filter(Q(from_user__in=people) | Q(to_user__in=people) | Q(actor=actor))
    past = list(past[:20])
    for item in past:
        item.summary = handover.describe(item.counts)
    return render(request, "crm/handover.html", {"form": form, "preview": preview, "past": past})
