from django import forms
from django.utils.translation import gettext_lazy as _

from webhooks import events
from webhooks.models import WebhookEndpoint


def event_choices() -> list[tuple[str, str]]:
    """Every registered event, and the test ping (docs/webhooks.md lists it, so a receiver may tick it)."""
    return [*events.choices(), (events.PING, f"{_('Test ping')} ({events.PING})")]


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=event_choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
        help_text=_("Each one is sent as a POST with a JSON body when it happens."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "active"]
        widgets = {"url": forms.URLInput(attrs={"placeholder": "https://example.com/crm-hooks"})}
        help_texts = {
            "url": _("The receiver's address (http or https). It gets whole records, like an admin export."),
            "active": _("Switched off, the endpoint gets no new events; queued ones fail."),
        }
