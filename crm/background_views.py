"""Administration → Background work: crm/background.py gathers it; this shows it and retries."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm import background
from crm.views import admin_required


@admin_required
def background_work(request):
    now = timezone.now()
    sections = []
    for source in background.sources():
        counts = source.counts(now)
        sections.append({"source": source, "rows": source.rows(now),
                         "counts": [(background.STATE_LABELS[state], state, count) for state, count in counts.items()],
                         "trouble": counts.get(background.FAILED, 0) + counts.get(background.STALLED, 0)})
    sections.sort(key=lambda section: -section["trouble"])  # failed and stalled work first; stable otherwise
    return render(request, "crm/background.html", {"sections": sections, "overview": background.overview(),
                                                    "replica_max_lag": settings.REPLICA_MAX_LAG})


@admin_required
@require_POST
def background_retry(request, source: str, pk: int):
    found = {item.key: item for item in background.sources()}.get(source)
    if found is None or found.retry is None:
        raise Http404
    retried = found.retry(pk, request.user)
    if retried is None:
        raise Http404
    if retried:
        messages.success(request, _("Sent to a worker again."))
    else:
        messages.info(request, _("That job is no longer failed: nothing to retry."))
    return redirect("background_work")
