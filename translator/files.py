"""Serving a conversion's files (original, result, thumbnail) to its owner: pages and API share this."""
from django.http import FileResponse, Http404



def conversion_file_response(conversion, kind, *, download=False):
    """A streaming response for one of the conversion's files; Http404 if it does not exist."""
    field = {
        "original": conversion.photo.image,
        "style": conversion.style_image.image if conversion.style_image else None,
        "result": conversion.result,
        "thumbnail": conversion.thumbnail,
        "intermediate": conversion.intermediate,
    }.get(kind)
    if not field:
        raise Http404(f"This conversion has no {kind} file (it is {conversion.get_status_display().lower()}).")
    stem = (conversion.photo.original_name.rsplit(".", 1)[0] or "photo")[:80]
    ext = field.name.rsplit(".", 1)[-1]
    if kind == "original":
        name = f"{stem}.{ext}"
    elif kind == "style":
        name = conversion.style_image.original_name or f"style.{ext}"
    else:
        name = f"{stem}-{conversion.art_model.slug}.{ext}"
    response = FileResponse(field.open("rb"), as_attachment=download, filename=name)
    # The progress image changes under the same URL while a slow job runs.
    response["Cache-Control"] = "private, no-cache" if kind == "intermediate" else "private, max-age=3600"
    return response
