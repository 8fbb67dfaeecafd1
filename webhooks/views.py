"""Admin pages: endpoints (create, edit, secret, test ping) and the delivery log.

Webhooks carry whole records to another system, like an admin export, so every page here is
for admins only (403 for everyone else), whatever records the user may see.
"""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.pagination import paginate
from crm.redirects import safe_next
from crm.views import admin_required
from webhooks import events, services
from webhooks.filters import DeliveryFilter
from webhooks.forms import EndpointForm
from webhooks.models import WebhookDelivery, WebhookEndpoint


@admin_required
def endpoint_list(request):
    page = paginate(WebhookEndpoint.objects.select_related("created_by").order_by("url", "id"), request.GET.get("page"))
    labels = {event.name: event.label for event in events.EVENTS.values()}
    for endpoint in page.rows:
        endpoint.event_labels = [labels.get(name, name) for name in endpoint.events]
    return render(request, "webhooks/endpoint_list.html", {"page": page})


@admin_required
def endpoint_create(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The endpoint was added. Give its signing secret to the receiver."))
            return redirect(endpoint.get_absolute_url() + "?created=1")
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None})


@admin_required
def endpoint_edit(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = EndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The endpoint was saved."))
            return redirect(endpoint.get_absolute_url())
    recent = list(endpoint.deliveries.newest_first()[:10])
    return render(request, "webhooks/endpoint_form.html", {
        "form": form, "endpoint": endpoint, "recent": recent, "show_secret": request.GET.get("created") == "1",
    })


@admin_required
@require_POST
def endpoint_rotate_secret(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
    messages.success(request, _("A new signing secret was generated. Requests are signed with it from now on."))
    return redirect(endpoint.get_absolute_url() + "?created=1")


@admin_required
@require_POST
def endpoint_ping(request, pk: int):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    services.endpoint_ping(endpoint=endpoint, actor=request.user)
    messages.success(request, _("A test ping was queued; its result appears in the delivery log."))
    return redirect(f"{_log_url()}?endpoint={endpoint.pk}")


def _log_url() -> str:
    return reverse("webhooks:delivery_list")


@admin_required
def delivery_list(request):
    deliveries = WebhookDelivery.objects.select_related("endpoint").newest_first()
    delivery_filter = DeliveryFilter(request.GET or None, queryset=deliveries)
    rows = delivery_filter.qs if delivery_filter.is_bound and delivery_filter.is_valid() else deliveries
    page = paginate(rows, request.GET.get("page"))
    return render(request, "webhooks/delivery_list.html", {"filter": delivery_filter, "page": page})


@admin_required
def delivery_detail(request, pk: int):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint", "resend_of"), pk=pk)
    body = services.encode_body(delivery.payload)
    pretty = json.dumps(delivery.payload, indent=2, ensure_ascii=False, sort_keys=True)
    return render(request, "webhooks/delivery_detail.html", {
        "delivery": delivery, "payload": pretty, "body_size": len(body),
        "resends": delivery.resends.newest_first()[:20],
    })


@admin_required
@require_POST
def delivery_resend(request, pk: int):
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    try:
        copy = services.delivery_resend(delivery=delivery, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Delivery #%(id)s was queued again as #%(copy)s.") % {
            "id": delivery.pk, "copy": copy.pk})
    return redirect(safe_next(request, _log_url()))
