from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views import defaults

from translator import views as translator_views
from translator.api import errors as api_errors

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("translator.api.urls")),
    path("accounts/signup/", translator_views.signup, name="signup"),
    path("accounts/login/", translator_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("translator.urls")),
]


def handler400(request, exception):
    # A request Django refused to read (too many files or fields, too large, a bad Host).
    if request.path.startswith("/api/"):
        return api_errors.json_400(request, exception)
    return translator_views.bad_request(request, exception)


def handler404(request, exception):
    # API clients get the API's error format, people get a page.
    if request.path.startswith("/api/"):
        return api_errors.json_404(request, exception)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return api_errors.json_500(request)
    return defaults.server_error(request)
