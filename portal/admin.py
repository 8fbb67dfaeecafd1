from django.contrib import admin

from portal.models import PortalUser, Survey


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("ticket", "resolved_at", "rating", "answered_at", "emailed_at")
    raw_id_fields = ("ticket", "agent")


@admin.register(PortalUser)
class PortalUserAdmin(admin.ModelAdmin):
    list_display = ("email", "contact", "is_active", "sees_account_tickets", "last_login", "locked_until")
    raw_id_fields = ("contact", "invited_by")
    exclude = ("password",)
