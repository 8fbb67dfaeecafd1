from django.contrib import admin

from service.models import BusinessCalendar, CannedResponse, EscalationRule, Queue, SlaPolicy, Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ("number", "subject", "status", "priority", "owner", "queue", "sla_state", "created_at")
    list_filter = ("status", "priority", "sla_state", "queue")
    search_fields = ("number", "subject")
    raw_id_fields = ("account", "contact", "product", "owner")


admin.site.register([BusinessCalendar, CannedResponse, EscalationRule, Queue, SlaPolicy])
