"""Secure configuration: the deployment checks, HTTPS settings from the environment, the
response headers (CSP and friends), and the admin's login lockout and sessions."""

import json
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.test import RequestFactory
from django.urls import reverse

from claims.middleware import client_ip

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "claimwatch.example",
}
ADMIN_PASSWORD = "pw-admin-123"


def run_django(code, **env):
    """Runs `code` after django.setup() in a fresh interpreter whose environment holds only
    `env` (and PATH): settings are read from the environment once, at import."""
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    script = f"import django, json\ndjango.setup()\n{code}"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def settings_under(names, **env):
    code = (
        "from django.conf import settings\n"
        f"print(json.dumps({{name: getattr(settings, name, None) for name in {names!r}}}))"
    )
    result = run_django(code, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- Configuration ---------------------------------------------------------------------------


def test_it_passes_the_deployment_checks_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], **PRODUCTION},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_fails_the_deployment_checks_with_a_weak_secret_key():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], **PRODUCTION, "SECRET_KEY": "short"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr


HTTPS_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "CSRF_TRUSTED_ORIGINS",
    "SESSION_COOKIE_AGE",
    "SILENCED_SYSTEM_CHECKS",
]


def test_it_is_https_only_by_default_in_production():
    values = settings_under(HTTPS_SETTINGS, **PRODUCTION)
    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_TRUSTED_ORIGINS": [],
        "SESSION_COOKIE_AGE": 8 * 60 * 60,
        "SILENCED_SYSTEM_CHECKS": ["security.W021"],
    }


def test_it_stays_on_plain_http_for_local_development():
    values = settings_under(HTTPS_SETTINGS, DEBUG="1")
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False


def test_it_reads_the_https_settings_from_the_environment():
    values = settings_under(
        HTTPS_SETTINGS,
        **PRODUCTION,
        SECURE_SSL_REDIRECT="0",
        SECURE_PROXY_SSL_HEADER="1",
        SECURE_HSTS_SECONDS="600",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="0",
        SECURE_HSTS_PRELOAD="1",
        CSRF_TRUSTED_ORIGINS="https://claimwatch.example, https://www.claimwatch.example",
        SESSION_COOKIE_AGE="3600",
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is True
    assert values["SILENCED_SYSTEM_CHECKS"] == []
    assert values["CSRF_TRUSTED_ORIGINS"] == [
        "https://claimwatch.example",
        "https://www.claimwatch.example",
    ]
    assert values["SESSION_COOKIE_AGE"] == 3600


def test_it_refuses_a_boolean_it_cannot_read():
    result = run_django("", **PRODUCTION, SECURE_SSL_REDIRECT="maybe")
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT must be a boolean" in result.stderr


def test_it_serves_the_admin_at_admin_url():
    result = run_django(
        "from django.urls import reverse\nprint(reverse('admin:index'))",
        **PRODUCTION,
        ADMIN_URL="/editors-7f3a",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/editors-7f3a/"


def test_it_refuses_an_empty_admin_url():
    result = run_django("", **PRODUCTION, ADMIN_URL="/")
    assert result.returncode != 0
    assert "ADMIN_URL must be a path" in result.stderr


# --- HTTPS in requests -----------------------------------------------------------------------


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    return settings


def test_it_redirects_plain_http_to_https(client, https_only, db):
    response = client.get(reverse("claims:list"))
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/claims/"


def test_it_answers_health_probes_over_plain_http(client, https_only, db):
    assert client.get(reverse("healthz")).status_code == 200


def test_it_trusts_the_proxys_scheme_only_when_told(client, https_only, db):
    forwarded = {"HTTP_X_FORWARDED_PROTO": "https"}
    assert client.get(reverse("claims:evidence"), **forwarded).status_code == 301
    https_only.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get(reverse("claims:evidence"), **forwarded).status_code == 200


def test_it_tells_browsers_to_keep_to_https(client, https_only, db):
    response = client.get(reverse("claims:evidence"), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# --- Response headers ------------------------------------------------------------------------


def public_paths(claim):
    return [
        reverse("claims:home"),
        reverse("claims:list"),
        claim.get_absolute_url(),
        claim.clinic.get_absolute_url(),
        reverse("claims:evidence"),
        reverse("claims:regulatory"),
        reverse("claims:api-claims"),
        reverse("claims:export-csv"),
        reverse("claims:feed"),
        reverse("sitemap"),
        reverse("healthz"),
        "/no-such-page/",
        reverse("admin:login"),
    ]


def csp_directives(response):
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_it_sends_the_security_headers_on_every_response(client, claim):
    for path in public_paths(claim):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        assert "camera=()" in response["Permissions-Policy"], path
        assert "geolocation=()" in response["Permissions-Policy"], path
        assert "unsafe-inline" not in response["Content-Security-Policy"], path
        assert "unsafe-eval" not in response["Content-Security-Policy"], path


def test_it_allows_only_its_own_scripts_styles_and_forms(client, db):
    directives = csp_directives(client.get(reverse("claims:evidence")))
    assert directives == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }


TEMPLATE_DIRS = [BASE_DIR / "templates"]


def template_sources():
    for directory in TEMPLATE_DIRS:
        for path in sorted(directory.rglob("*.html")):
            yield path, path.read_text()


def test_it_keeps_scripts_and_styles_out_of_templates():
    """The CSP would block them: everything lives in static/."""
    for path, source in template_sources():
        assert not re.search(r"\sstyle\s*=", source), f"style attribute in {path}"
        assert "<style" not in source, f"<style> element in {path}"
        assert not re.search(r"\son[a-z]+\s*=", source), f"event handler attribute in {path}"
        assert "javascript:" not in source, f"javascript: URL in {path}"
        for script in re.findall(r"<script[^>]*>", source):
            # Files, or data blocks that browsers never run.
            assert "src=" in script or 'type="application/ld+json"' in script, (path, script)


# --- The admin: staff only, lockout, sessions ------------------------------------------------


def log_in(client, username, password, address="203.0.113.7"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=address,
    )


def test_it_lets_staff_log_in_to_the_admin(client, superuser):
    response = log_in(client, "admin", ADMIN_PASSWORD)
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200


def test_it_keeps_users_who_are_not_staff_out_of_the_admin(client, db):
    reader = User.objects.create_user("reader", password="pw-reader-123")
    client.force_login(reader)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_locks_a_username_out_from_an_address_after_repeated_failures(client, superuser):
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "admin", "wrong").status_code == 200
    response = log_in(client, "admin", "wrong")
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    # Even the right password is refused while locked out, and no session is started.
    assert log_in(client, "admin", ADMIN_PASSWORD).status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302


def test_it_locks_out_only_that_username_from_that_address(client, superuser):
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        log_in(client, "admin", "wrong")
    assert log_in(client, "admin", ADMIN_PASSWORD, address="198.51.100.9").status_code == 302
    User.objects.create_user("other", password="pw-other-123", is_staff=True)
    client.logout()
    assert log_in(client, "other", "pw-other-123").status_code == 302


def test_it_lets_the_user_in_again_after_the_cool_off(client, superuser):
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        log_in(client, "admin", "wrong")
    assert log_in(client, "admin", ADMIN_PASSWORD).status_code == 429
    cool_off = django_settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= cool_off
        attempt.save()
    assert log_in(client, "admin", ADMIN_PASSWORD).status_code == 302


def test_it_forgets_failures_after_a_successful_login(client, superuser):
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "admin", "wrong")
    assert log_in(client, "admin", ADMIN_PASSWORD).status_code == 302
    client.logout()
    assert log_in(client, "admin", "wrong").status_code == 200
    assert log_in(client, "admin", ADMIN_PASSWORD).status_code == 302


def test_it_ends_admin_sessions_after_session_cookie_age(client, superuser):
    log_in(client, "admin", ADMIN_PASSWORD)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == django_settings.SESSION_COOKIE_AGE
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_it_reads_the_client_address_behind_trusted_proxies(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.1"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.7"
    settings.TRUSTED_PROXY_COUNT = 5  # fewer addresses than proxies: the header is not theirs
    assert client_ip(request) == "10.0.0.2"


# --- In a real browser -----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_runs_the_site_and_the_admin_without_a_single_csp_violation(new_context, claim):
    """Chromium reports every blocked script, style or eval on the console."""
    User.objects.create_superuser("admin", password=ADMIN_PASSWORD)
    page = new_context().new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))

    page.goto(claim.get_absolute_url())
    json_ld = page.locator('script[type="application/ld+json"]').text_content()
    assert json.loads(json_ld)["@type"] == "ClaimReview"
    page.goto(reverse("claims:list"))

    page.goto(reverse("admin:login"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{reverse('admin:index')}")
    for name in ("admin:claims_claim_changelist", "admin:claims_claim_add"):
        page.goto(reverse(name))
    page.goto(reverse("admin:claims_claim_change", args=[claim.pk]))
    page.get_by_role("heading", level=1).wait_for()

    violations = [text for text in console if "Content Security Policy" in text]
    assert violations == []


def test_it_runs_the_admins_export_and_history_pages_under_their_policy(new_context, claim):
    User.objects.create_superuser("admin", password=ADMIN_PASSWORD)
    page = new_context().new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(reverse("admin:login"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{reverse('admin:index')}")

    page.goto(reverse("admin:claims_claim_export"))
    page.locator("input.select-toggle").first.click()  # its inline onchange handler
    page.goto(reverse("admin:claims_claim_history", args=[claim.pk]))
    version = claim.history.earliest()
    page.goto(reverse("admin:claims_claim_simple_history", args=[claim.pk, version.pk]))

    violations = [text for text in console if "Content Security Policy" in text]
    assert violations == []


def test_it_loosens_the_policy_for_inline_attributes_in_the_admin_only(client, superuser):
    client.force_login(superuser)
    admin = csp_directives(client.get(reverse("admin:claims_claim_export")))
    public = csp_directives(client.get(reverse("claims:evidence")))

    assert admin["style-src-attr"] == admin["script-src-attr"] == ["'unsafe-inline'"]
    assert admin["script-src"] == ["'self'"]
    assert "style-src-attr" not in public and "script-src-attr" not in public


# --- Methods, static files, the server itself -------------------------------------------------


@pytest.mark.parametrize("method", ["trace", "post", "put", "delete"])
def test_it_answers_405_to_methods_a_page_does_not_serve(client, claim, method):
    for path in [reverse("claims:home"), reverse("claims:list"), claim.get_absolute_url()]:
        response = client.generic(method.upper(), path)
        assert response.status_code == 405, (method, path)
        assert claim.title.encode() not in response.content


def test_it_answers_options_with_the_methods_and_no_page(client, claim):
    response = client.options(reverse("claims:list"))

    assert response.status_code == 200
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.content == b""


def test_it_refuses_trace_everywhere(client, db):
    for path in [reverse("healthz"), reverse("claims:feed"), "/sitemap.xml", "/static/x.css"]:
        assert client.generic("TRACE", path).status_code == 405, path


def test_it_sends_the_csp_and_frame_options_with_static_files(client, db):
    response = client.get(django_settings.STATIC_URL + "claims/site.css")

    assert response.status_code == 200
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    """The site under gunicorn with gunicorn.conf.py, as production runs it."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": "test-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{log.parent / 'unused.sqlite3'}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    with open(log, "w") as output:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
            + ["config.wsgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/no-such-page/", timeout=2)
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        try:
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)


def raw_get(url, target):
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    headers = [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n")[1:]]
    return status, headers, body


def test_it_names_no_server_under_gunicorn(gunicorn_server):
    status, headers, _body = raw_get(gunicorn_server, "/no-such-page/")

    assert status == 404
    assert b"server" not in headers


def test_it_answers_an_overlong_query_string_with_djangos_414_under_gunicorn(gunicorn_server):
    limit = django_settings.MAX_QUERY_STRING_LENGTH
    status, _headers, body = raw_get(gunicorn_server, "/claims/?q=" + "a" * limit)

    assert status == 414
    assert b"too long" in body
