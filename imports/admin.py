from django.contrib import admin

from imports.models import ImportJob, MappingTemplate


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "target", "original_name", "status", "total_rows", "created", "updated",
                    "skipped", "failed", "created_at"]
    list_filter = ["status", "target"]
    raw_id_fields = ["user"]
    readonly_fields = ["headers", "mapping", "undo_report"]


@admin.register(MappingTemplate)
class MappingTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "target", "shared"]
    raw_id_fields = ["user"]
