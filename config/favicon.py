"""/favicon.ico: browsers ask for it on every page whatever the page links to; answer with a
redirect to the site's icon (static/favicon.svg) rather than a 404 in every log."""
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponsePermanentRedirect


def favicon(request):
    # Resolved per request: with the manifest storage the hashed name exists only after collectstatic.
    return HttpResponsePermanentRedirect(staticfiles_storage.url("favicon.svg"))
