"""Error answers: API clients get the API's JSON error format, people get a page in the site's
look (templates/400.html, 403.html, 404.html, 500.html, 403_csrf.html). config/urls.py names these."""
from django.shortcuts import render
from django.views import defaults

from translator import views as translator_views
from translator.api import errors as api_errors


def _is_api(request):
    return request.path.startswith("/api/")


def bad_request(request, exception):
    """A request Django refused to read (too many files or fields, too large, a bad Host)."""
    if _is_api(request):
        return api_errors.json_400(request, exception)
    return translator_views.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return api_errors.json_403(request, exception)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _is_api(request):
        return api_errors.json_404(request, exception)
    return defaults.page_not_found(request, exception)


def server_error(request):
    # Django renders 500.html without a request context: the template needs none.
    if _is_api(request):
        return api_errors.json_500(request)
    return defaults.server_error(request)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW. The API's views are exempt (DRF checks CSRF itself, for sessions)."""
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
