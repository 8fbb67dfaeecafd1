from django.contrib import admin

from webhooks.models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "description", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    readonly_fields = ["created_at", "secret_rotated_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "object_type", "object_id", "endpoint", "status", "attempts", "last_status_code",
                    "created_at"]
    list_filter = ["status", "event"]
    list_select_related = ["endpoint"]
    raw_id_fields = ["endpoint", "resend_of"]
    readonly_fields = ["sequence", "idempotency_key", "claimed_at", "created_at"]
    show_full_result_count = False
