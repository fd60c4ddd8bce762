"""The production settings, as the README's "Production" part documents them, pass Django's
deployment check; without HTTPS its warnings are there. Each case is a fresh `manage.py` process
with only the given RESTYLE_* variables, so nothing of the test settings leaks in."""
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def production_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RESTYLE_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        RESTYLE_VAR_DIR=str(tmp_path / "var"),
        RESTYLE_DEBUG="0",
        RESTYLE_SECRET_KEY=secrets.token_urlsafe(50),
        RESTYLE_ALLOWED_HOSTS="restyle.example.org",
        RESTYLE_CSRF_TRUSTED_ORIGINS="https://restyle.example.org",
        RESTYLE_HTTPS="1",
    )
    return env


def manage(env, *args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def settings_in(env, *names):
    code = "import json, django; django.setup(); from django.conf import settings as s; " \
           f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_documented_production_settings_pass_the_deployment_check(production_env):
    done = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_without_https_the_deployment_check_warns(production_env):
    production_env["RESTYLE_HTTPS"] = "0"
    done = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode != 0
    for warning in ["security.W004", "security.W008", "security.W012", "security.W016"]:
        assert warning in done.stderr + done.stdout, warning


def test_https_turns_on_redirects_hsts_and_secure_cookies(production_env):
    values = settings_in(production_env, "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                         "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER")
    assert values == {
        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "SECURE_PROXY_SSL_HEADER": None,  # no trusted proxy: nobody's X-Forwarded-Proto is believed
    }
    production_env.update(RESTYLE_HSTS_SECONDS="600", RESTYLE_HSTS_PRELOAD="1")
    assert settings_in(production_env, "SECURE_HSTS_SECONDS", "SECURE_HSTS_PRELOAD") == {
        "SECURE_HSTS_SECONDS": 600, "SECURE_HSTS_PRELOAD": True}


def test_a_trusted_proxy_feeds_the_api_the_lockouts_and_the_https_header(production_env):
    production_env["RESTYLE_TRUSTED_PROXY_COUNT"] = "1"
    values = settings_in(production_env, "REST_FRAMEWORK", "SECURE_PROXY_SSL_HEADER", "AXES_CLIENT_IP_CALLABLE")
    assert values["REST_FRAMEWORK"]["NUM_PROXIES"] == 1
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["AXES_CLIENT_IP_CALLABLE"] == "translator.client_address.client_ip"
    done = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_bad_security_value_stops_start_up_naming_the_variable(production_env):
    production_env["RESTYLE_LOGIN_FAILURE_LIMIT"] = "ten"
    done = manage(production_env, "check")
    assert done.returncode != 0
    assert "RESTYLE_LOGIN_FAILURE_LIMIT must be a whole number, not 'ten'" in done.stderr
