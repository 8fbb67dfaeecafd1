from django.contrib import admin

from accounts.models import Account


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "owner", "team", "deleted_at"]
    list_filter = ["type", "team"]
    search_fields = ["name", "tax_number", "email"]
    raw_id_fields = ["owner", "parent"]
