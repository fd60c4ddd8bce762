"""Every page sends a Content-Security-Policy that allows scripts and styles from our own origin
only, and nothing inline; a response that set a policy of its own keeps it. What the browser
makes of it is in tests/e2e/test_csp_browser.py."""
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.urls import path

from config import urls as site_urls

REPO = Path(__file__).resolve().parents[2]
OWN_POLICY = "default-src 'none'; sandbox"


def own_policy(request):
    response = HttpResponse(b"a file", content_type="image/png")
    response["Content-Security-Policy"] = OWN_POLICY
    return response


urlpatterns = [path("own-policy/", own_policy), *site_urls.urlpatterns]
handler404 = site_urls.handler404

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def directives(response):
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.fixture
def admin(client):
    client.force_login(get_user_model().objects.create_superuser("root", password="root-password-1"))
    return client


def test_pages_allow_scripts_and_styles_from_our_origin_only(admin, conversion):
    urls = ["/", "/gallery/", f"/gallery/{conversion.id}/", "/admin/", "/admin/translator/artmodel/",
            "/api/v1/docs/", "/no-such-page/"]
    for url in urls:
        response = admin.get(url)
        policy = directives(response)
        assert policy["script-src"] == ["'self'"], url
        assert policy["style-src"] == ["'self'"], url
        assert policy["default-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], url


def test_the_login_page_has_the_policy_too(client):
    assert directives(client.get("/accounts/login/"))["script-src"] == ["'self'"]


def test_a_response_with_a_policy_of_its_own_keeps_it(client):
    assert client.get("/own-policy/")["Content-Security-Policy"] == OWN_POLICY


def test_the_api_docs_page_loads_its_start_up_script_from_a_url(client):
    page = client.get("/api/v1/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all("src=" in attrs for attrs in scripts), scripts
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', page).group(1).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert "<style" not in page


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>"), "inline <script>"),
    (re.compile(r"<style\b"), "<style> element"),
    (re.compile(r"\sstyle=[\"']"), "style attribute"),
    (re.compile(r"\son[a-z]+=[\"']"), "event handler attribute"),
    (re.compile(r"javascript:"), "javascript: URL"),
]


def test_no_template_or_admin_snippet_holds_inline_script_or_style():
    """The policy would block them: they belong in static/js and static/css."""
    files = [*(REPO / "templates").rglob("*.html"), *(REPO / "translator").rglob("*.py")]
    found = [
        f"{f.relative_to(REPO)}: {what}"
        for f in files if "migrations" not in f.parts
        for pattern, what in INLINE if pattern.search(f.read_text())
    ]
    assert found == []
