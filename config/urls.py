from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from translator import views as translator_views

from . import error_pages
from .favicon import favicon

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("translator.api.urls")),
    path("accounts/signup/", translator_views.signup, name="signup"),
    path("accounts/login/", translator_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("translator.urls")),
]


handler400 = error_pages.bad_request
handler403 = error_pages.permission_denied
handler404 = error_pages.page_not_found
handler500 = error_pages.server_error
