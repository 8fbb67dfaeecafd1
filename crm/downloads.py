"""Stored files (product documents, ticket attachments) are served only through views that have
checked who may read them; this is how each of those views answers."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def private_download(file: FieldFile, *, filename: str, content_type: str) -> FileResponse:
    """Always a download, never rendered inline, never sniffed into another type, never cached by a
    shared cache. A file gone from the storage is a 404."""
    try:
        handle = file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
