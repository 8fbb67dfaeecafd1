from django.contrib import admin

from exports.models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["target", "user", "format", "status", "total_rows", "created_at"]
    list_filter = ["target", "status"]
