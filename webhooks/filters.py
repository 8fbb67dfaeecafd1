import django_filters
from django.utils.translation import gettext_lazy as _

from webhooks import events
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint


def event_choices():
    return [*events.choices(), (events.PING, _("Test ping (%(name)s)") % {"name": events.PING})]


class DeliveryFilter(django_filters.FilterSet):
    endpoint = django_filters.ModelChoiceFilter(label=_("Endpoint"), queryset=WebhookEndpoint.objects.all(),
                                                empty_label=_("Any endpoint"))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DeliveryStatus.choices, empty_label=_("Any status"))
    event = django_filters.ChoiceFilter(label=_("Webhook event"), choices=event_choices, empty_label=_("Any event"))

    class Meta:
        model = WebhookDelivery
        fields = []
