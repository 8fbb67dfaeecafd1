"""Export jobs: every export is a row, so the list of jobs is also the export audit log."""

import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import jobs
from crm.models import HeartbeatJob

DOWNLOAD_LIFETIME = timedelta(hours=24)


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportJob(HeartbeatJob):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    target = models.CharField(max_length=40)  # "accounts.account", "contacts.contact"
    query = models.CharField(max_length=1000, blank=True)  # the list's filters, as in its URL
    format = models.CharField(max_length=5, choices=ExportFormat.choices, default=ExportFormat.CSV)
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)  # the file's name on disk

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="exportjob_user_idx")]

    def __str__(self):
        return f"{self.target} export {self.pk}"

    @property
    def progress_percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return int(self.processed_rows * 100 / self.total_rows) if self.total_rows else 0

    @property
    def is_stalled(self) -> bool:
        """Queued or running, and no worker has reported for a minute: the scheduler tick starts it again."""
        return self.status in (ExportStatus.QUEUED, ExportStatus.RUNNING) and jobs.is_stalled(self)

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def path(self) -> Path:
        """The finished file: it only ever appears whole (written under a temporary name, then renamed)."""
        return Path(settings.MEDIA_ROOT) / "exports" / f"{self.key}.{self.format}"

    def partial_path(self, token: uuid.UUID) -> Path:
        """Where one run writes; a run that dies leaves it behind, the next run removes it."""
        return self.path.with_name(f"{self.key}.{token.hex}.part")

    def remove_partial_files(self) -> None:
        for leftover in self.path.parent.glob(f"{self.key}.*.part"):
            leftover.unlink(missing_ok=True)
