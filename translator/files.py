"""Serving a conversion's files (original, result, thumbnail) to its owner: pages and API share this."""
from django.http import FileResponse, Http404

KINDS = ("original", "result", "thumbnail")


def conversion_file_response(conversion, kind, *, download=False):
    """A streaming response for one of the conversion's files; Http404 if it does not exist."""
    field = {
        "original": conversion.photo.image,
        "result": conversion.result,
        "thumbnail": conversion.thumbnail,
    }.get(kind)
    if not field:
        raise Http404(f"This conversion has no {kind} file (it is {conversion.get_status_display().lower()}).")
    stem = (conversion.photo.original_name.rsplit(".", 1)[0] or "photo")[:80]
    ext = field.name.rsplit(".", 1)[-1]
    name = f"{stem}.{ext}" if kind == "original" else f"{stem}-{conversion.art_model.slug}.{ext}"
    response = FileResponse(field.open("rb"), as_attachment=download, filename=name)
    response["Cache-Control"] = "private, max-age=3600"
    return response
