"""Spreadsheet imports: the job, what it did per row (for the report and undo), external ids,
and reusable column mappings."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import jobs
from crm.models import HeartbeatJob


class ImportStatus(models.TextChoices):
    MAPPING = "mapping", _("Waiting for column mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    UNDONE = "undone", _("Undone")
    ABANDONED = "abandoned", _("Abandoned")


class DuplicatePolicy(models.TextChoices):
    SKIP = "skip", _("Skip the row")
    UPDATE = "update", _("Update the existing record")
    CREATE = "create", _("Create a new record anyway")


class RowAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class ImportJobQuerySet(models.QuerySet):
    def of_user(self, user):
        """A user's own jobs: the only ones they may open (someone else's answer 404)."""
        return self.filter(user=user)


class ImportJob(HeartbeatJob):
    # A worker beats after each batch (a batch takes a second or two), through crm/jobs.py: a job
    # not heard from for a minute lost its worker, shows as stalled and is taken over by the tick.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    target = models.CharField(_("import into"), max_length=60)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.MAPPING)
    original_name = models.CharField(_("file"), max_length=255)
    file_path = models.CharField(max_length=500, blank=True)  # relative to MEDIA_ROOT; "" once deleted
    file_format = models.CharField(max_length=4)  # csv / xlsx
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(default=dict, blank=True)  # {"<column index>": "<field key>"}
    duplicate_policy = models.CharField(
        _("when a record already exists"), max_length=10, choices=DuplicatePolicy.choices,
        default=DuplicatePolicy.SKIP)
    clear_empty = models.BooleanField(_("empty cells clear fields"), default=False)
    # Where phone numbers without a country code are read (chosen on the mapping page); "" = the
    # default region (jobs from before the choice existed).
    phone_region = models.CharField(_("phone numbers without a country code are from"), max_length=2, blank=True)
    batch_size = models.PositiveIntegerField(default=1000)
    # Progress, committed with each batch: a restarted job resumes after the last committed batch.
    batches_done = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)  # rows imported with something to check
    # Contacts: create the accounts a row names (by tax number, then name) that do not exist yet.
    create_accounts = models.BooleanField(_("create missing accounts"), default=True)
    accounts_created = models.PositiveIntegerField(default=0)
    # Where else the rows go (imports/destinations.py: {key: options}) and what each did ({key: counts}).
    destinations = models.JSONField(default=dict, blank=True)
    destination_counts = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undo_report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="importjob_user_idx"),
                   models.Index(fields=["status", "heartbeat_at"], name="importjob_status_idx")]

    def __str__(self):
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def importer(self):
        from imports.importers import get_importer

        return get_importer(self.target)

    @property
    def percent(self) -> int:
        return 100 if not self.total_rows else min(100, round(100 * self.rows_done / self.total_rows))

    @property
    def is_active(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def is_stalled(self) -> bool:
        """Queued or running, and no worker has reported for a minute: its worker died (or none runs).
        The scheduler tick hands it to a worker again, which resumes after the last batch."""
        return self.is_active and jobs.is_stalled(self)

    @property
    def can_undo(self) -> bool:
        return self.status == ImportStatus.DONE and bool(self.created or self.updated)


class ImportRow(models.Model):
    """What the import did with one row of the file: the report, the error CSV and undo read it."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField()  # 1 = the first data row under the header
    action = models.CharField(max_length=8, choices=RowAction.choices)
    object_id = models.BigIntegerField(null=True, blank=True)
    previous = models.JSONField(null=True, blank=True)  # updated rows: old values of the changed fields
    reason = models.TextField(blank=True)
    values = models.JSONField(null=True, blank=True)  # failed rows: the original cells, for the error CSV

    class Meta:
        ordering = ["job", "row_number"]
        constraints = [models.UniqueConstraint(fields=["job", "row_number"], name="importrow_unique_row")]
        indexes = [models.Index(fields=["job", "action", "row_number"], name="importrow_action_idx")]

    def __str__(self):
        return f"{self.job_id}:{self.row_number} {self.action}"


class ImportedRecord(models.Model):
    """An external id (from another system's export) → the record it became. Kept here so the
    customer tables stay untouched; several rows may share an external id, the newest live one wins."""

    target = models.CharField(max_length=60)
    external_id = models.CharField(max_length=200)
    object_id = models.BigIntegerField()
    job = models.ForeignKey(ImportJob, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["target", "external_id"], name="importedrecord_ext_idx"),
                   models.Index(fields=["target", "object_id"], name="importedrecord_obj_idx")]

    def __str__(self):
        return f"{self.target} {self.external_id} → {self.object_id}"


class MappingTemplate(models.Model):
    """A saved column mapping (header → field), private to its author or shared with everyone."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_mappings")
    target = models.CharField(max_length=60)
    name = models.CharField(_("name"), max_length=80)
    shared = models.BooleanField(_("share with everyone"), default=False)
    columns = models.JSONField(default=dict)  # {"<normalised header>": "<field key>"}
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "target", "name"], name="mappingtemplate_unique")]

    def __str__(self):
        return self.name

    @classmethod
    def available_to(cls, user, target: str):
        return cls.objects.filter(Q(user=user) | Q(shared=True), target=target)
