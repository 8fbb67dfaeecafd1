"""Import pages: upload → mapping → preview → run (progress) → result, error CSV, undo."""

import csv

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.list_tools import neutralise
from crm.pagination import paginate
from crm.phones import user_region
from imports import destinations, reader, services
from imports.forms import MappingForm, UploadForm
from imports.importers import get_importer, importers_for
from imports.models import ImportJob, ImportRow, ImportStatus, MappingTemplate, RowAction


def _job(request, pk) -> ImportJob:
    """A user's own job only: another user's id answers 404 like a missing one."""
    job = get_object_or_404(ImportJob.objects.of_user(request.user), pk=pk)
    try:
        get_importer(job.target)
    except LookupError:
        raise Http404 from None
    return job


def job_list(request):
    page = paginate(ImportJob.objects.of_user(request.user), request.GET.get("page"), per_page=25)
    return render(request, "imports/job_list.html", {"page": page, "importers": importers_for(request.user)})


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def upload(request):
    importers = importers_for(request.user)
    if not importers:
        raise Http404
    initial = {"target": request.GET.get("target")} if request.GET.get("target") else None
    # Refuse an oversized upload from its declared length, before anything reads the body.
    if request.method == "POST" and _declared_length(request) > reader.MAX_UPLOAD_BYTES + 1024 * 1024:
        return render(request, "imports/upload.html", {
            "form": UploadForm(importers=importers, initial=initial),
            "refusal": _("The file is larger than 50 MB. Split it into smaller files and import them one by one."),
        }, status=413)
    form = UploadForm(request.POST or None, request.FILES or None, importers=importers, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                job = services.job_create(user=request.user, target=form.cleaned_data["target"],
                                          upload=form.cleaned_data["file"])
            except reader.FileRefused as refusal:
                form.add_error("file", str(refusal))
            else:
                return redirect("imports:mapping", pk=job.pk)
        return render(request, "imports/upload.html", {"form": form}, status=400)
    return render(request, "imports/upload.html", {"form": form})


def mapping(request, pk):
    job = _job(request, pk)
    if job.status != ImportStatus.MAPPING:
        return redirect("imports:detail", pk=job.pk)
    importer = job.importer
    specs = importer.fields()
    templates = MappingTemplate.available_to(request.user, job.target)
    current = job.mapping
    if request.GET.get("template"):
        template = templates.filter(pk=request.GET["template"]).first() if request.GET["template"].isdigit() else None
        if template is None:
            raise Http404
        current = services.mapping_from_template(job, template)
    initial = {f"col_{i}": key for i, key in current.items()}
    initial.update(duplicate_policy=job.duplicate_policy, clear_empty=job.clear_empty,
                   create_accounts=job.create_accounts, phone_region=job.phone_region or user_region(request.user))
    for destination, options in destinations.chosen(job):  # what was chosen before, in the form's terms
        initial.update(destination.initial(options))
    form = MappingForm(request.POST or None, job=job, specs=specs, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.job_set_mapping(job=job, mapping=form.mapping(),
                                 duplicate_policy=form.cleaned_data["duplicate_policy"],
                                 clear_empty=form.cleaned_data["clear_empty"],
                                 phone_region=form.cleaned_data["phone_region"],
                                 create_accounts=form.cleaned_data.get("create_accounts"),
                                 chosen_destinations=form.chosen_destinations)
        if form.cleaned_data["template_name"]:
            services.mapping_template_save(job=job, user=request.user, name=form.cleaned_data["template_name"],
                                           shared=form.cleaned_data["template_shared"])
            messages.success(request, _("The mapping was saved for next time."))
        return redirect("imports:preview", pk=job.pk)
    samples = job.headers and _samples(job)
    rows = [(field, samples[index] if samples else "") for index, field in enumerate(form.column_fields())]
    return render(request, "imports/mapping.html", {"job": job, "form": form, "rows": rows, "templates": templates})


def _samples(job) -> list[str]:
    try:
        first = next(services._data_rows(job), [])
    except reader.FileRefused:
        first = []
    return [first[i] if i < len(first) else "" for i in range(len(job.headers))]


def preview(request, pk):
    job = _job(request, pk)
    if job.status != ImportStatus.MAPPING:
        return redirect("imports:detail", pk=job.pk)
    specs, outcomes = services.job_preview(job=job)
    failing = sum(1 for o in outcomes if o.action == RowAction.FAILED)
    return render(request, "imports/preview.html", {"job": job, "specs": specs, "outcomes": outcomes,
                                                    "failing": failing, "plan": services.job_plan(job=job)})


@require_POST
def start(request, pk):
    job = _job(request, pk)
    if services.job_start(job=job):
        messages.success(request, _("The import has started. You can leave this page and come back."))
    return redirect("imports:detail", pk=job.pk)


WARNED_SHOWN = 50


def job_detail(request, pk):
    job = _job(request, pk)
    if request.htmx and request.GET.get("fragment") == "progress":
        response = render(request, "imports/job_detail.html#progress", {"job": job})
        if not job.is_active:
            response["HX-Refresh"] = "true"  # show the full result page
        return response
    failed = paginate(ImportRow.objects.filter(job=job, action=RowAction.FAILED).order_by("row_number"),
                      request.GET.get("page"), per_page=50)
    # The first rows imported with something to check (numbers kept as written): the index on
    # (job, action, row_number) serves it.
    warned = list(ImportRow.objects.filter(job=job, action__in=[RowAction.CREATED, RowAction.UPDATED])
                  .exclude(reason="").order_by("row_number")[:WARNED_SHOWN]) if job.warnings else []
    return render(request, "imports/job_detail.html", {"job": job, "failed": failed, "warned": warned,
                                                       "destination_results": services.destination_results(job)})


class _Encoded:
    """A file-like writer that encodes into the response in the uploaded file's encoding (a
    character the encoding lacks becomes "?", so a cp1251 file stays cp1251)."""

    def __init__(self, response: HttpResponse, encoding: str):
        self.response, self.encoding = response, encoding

    def write(self, text: str) -> None:
        self.response.write(text.encode(self.encoding, errors="replace"))


def errors_csv(request, pk):
    """The failed rows to fix and upload again, in the encoding and with the delimiter of the
    uploaded CSV (cp1251 with ";" stays cp1251 with ";", so the same Excel or 1C opens it); an
    XLSX or UTF-8 upload gets UTF-8 with a BOM."""
    job = _job(request, pk)
    encoding = job.encoding if job.file_format == "csv" and job.encoding else "utf-8"
    if encoding.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig", "ascii"):
        encoding = "utf-8"
    response = HttpResponse(content_type=f"text/csv; charset={encoding}")
    stem = job.original_name.rsplit(".", 1)[0] or "import"
    safe = "".join(ch for ch in stem if ch.isalnum() or ch in "-_")[:60] or "import"
    # filename*= (RFC 6266) so a Cyrillic file name reaches the browser intact
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=f"{safe}-errors.csv")
    out = _Encoded(response, encoding)
    if encoding == "utf-8":
        out.write("\ufeff")
    delimiter = job.delimiter if job.file_format == "csv" and job.delimiter else ","
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in job.headers] + [_("reason")])
    rows = ImportRow.objects.filter(job=job, action=RowAction.FAILED).order_by("row_number")
    for row in rows.values_list("values", "reason").iterator(chunk_size=2000):
        cells = list(row[0] or [])
        cells += [""] * (len(job.headers) - len(cells))
        writer.writerow([neutralise(cell) for cell in cells] + [neutralise(row[1])])
    return response


@require_POST
def undo(request, pk):
    job = _job(request, pk)
    report = services.job_undo(job=job, actor=request.user)
    if report:
        messages.success(request, _("The import was undone."))
    return redirect("imports:detail", pk=job.pk)


@require_POST
def abandon(request, pk):
    job = _job(request, pk)
    services.job_abandon(job=job)
    return redirect("imports:list")
