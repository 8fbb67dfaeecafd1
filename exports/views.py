from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.list_tools import clean_query
from crm.pagination import paginate
from exports import services
from exports.models import ExportJob, ExportStatus
from exports.registry import EXPORTERS


@require_POST
def export_start(request):
    target = request.POST.get("target", "")
    if target not in EXPORTERS:
        raise Http404
    job = services.export_start(user=request.user, target=target, query=clean_query(request.POST.get("query", "")),
                                format=request.POST.get("format", "csv"))
    return redirect("exports:detail", pk=job.pk)


def _own_job(request, pk: int) -> ExportJob:
    """Only the requester may see or download an export: anyone else gets 404."""
    job = ExportJob.objects.filter(pk=pk, user=request.user).first()
    if job is None:
        raise Http404
    return job


def export_detail(request, pk: int):
    job = _own_job(request, pk)
    context = {"job": job, "exporter": EXPORTERS.get(job.target)}
    if request.htmx:
        return render(request, "exports/export_detail.html#progress", context)
    return render(request, "exports/export_detail.html", context)


def export_download(request, pk: int):
    job = _own_job(request, pk)
    if job.status != ExportStatus.DONE or not job.file_name or job.expired or not job.path.exists():
        messages.error(request, _("This download has expired or is not ready. Start the export again."))
        return redirect("exports:detail", pk=job.pk)
    ExportJob.objects.filter(pk=job.pk).update(downloaded_at=timezone.now())
    return FileResponse(open(job.path, "rb"), as_attachment=True, filename=job.file_name)  # noqa: SIM115


def export_list(request):
    page = paginate(ExportJob.objects.filter(user=request.user), request.GET.get("page"), per_page=30)
    return render(request, "exports/export_list.html", {"page": page, "everyone": False, "exporters": EXPORTERS})


def export_log(request):
    """The export audit log: who exported what and how many rows."""
    if not request.user.is_admin:
        raise PermissionDenied
    page = paginate(ExportJob.objects.select_related("user"), request.GET.get("page"), per_page=50)
    return render(request, "exports/export_list.html", {"page": page, "everyone": True, "exporters": EXPORTERS})
