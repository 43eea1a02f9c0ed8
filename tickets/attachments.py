"""Checks on uploaded files, shared by the customer forms and the services."""

import mimetypes
import secrets
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat


def validate_uploads(files):
    """Raise one ``ValidationError`` listing every refused file, or return the files."""
    files = list(files)
    errors = []
    if len(files) > settings.ATTACHMENT_MAX_FILES:
        errors.append(f"Attach at most {settings.ATTACHMENT_MAX_FILES} files at once.")
    allowed = {ext.lower() for ext in settings.ATTACHMENT_ALLOWED_EXTENSIONS}
    for upload in files:
        name = PurePath(upload.name).name
        extension = PurePath(name).suffix.lower().lstrip(".")
        if extension not in allowed:
            errors.append(
                f"{name}: files of type “.{extension or '?'}” are not accepted "
                f"(allowed: {', '.join(sorted(allowed))})."
            )
        elif upload.size > settings.ATTACHMENT_MAX_BYTES:
            errors.append(
                f"{name} is {filesizeformat(upload.size)}; the limit is "
                f"{filesizeformat(settings.ATTACHMENT_MAX_BYTES)}."
            )
        elif upload.size == 0:
            errors.append(f"{name} is empty.")
    if errors:
        raise ValidationError(errors)
    return files


def attachment_fields(upload):
    """The stored metadata of an accepted upload: display name, type, size, storage token."""
    name = PurePath(upload.name).name[:255]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return {
        "name": name,
        "content_type": content_type,
        "size": upload.size,
        "token": secrets.token_urlsafe(24),
    }


def download_response(file, *, filename, content_type):
    """A stored upload as a download: never rendered by the browser as a page of the portal.

    Access is the caller's to check first. A file gone from storage is a 404, not an error.
    """
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is no longer available.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
