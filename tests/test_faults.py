"""Faults: a database that cannot be reached, a Redis that is down, and error pages that must
render whatever else is broken."""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import path, reverse

from claims.middleware import RETRY_AFTER_SECONDS
from claims.redis_cache import DegradingRedisCache
from config import urls as config_urls
from tests.conftest import make_claim

BASE_DIR = Path(__file__).resolve().parent.parent
# Nothing listens on port 1: every connection is refused at once.
UNREACHABLE_DATABASE = "postgres://postgres@127.0.0.1:1/claimwatch"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"

# --- The database is down --------------------------------------------------------------------

REQUESTS_WITHOUT_A_DATABASE = """
import json, django
django.setup()
from django.test import Client

client = Client(raise_request_exception=False)
answers = {}
for path in json.loads(PATHS):
    response = client.get(path)
    if response.streaming:
        try:
            body = b"".join(response.streaming_content)
        except Exception as error:
            body = f"failed while streaming: {error!r}".encode()
    else:
        body = response.content
    answers[path] = {
        "status": response.status_code,
        "retry_after": response.get("Retry-After"),
        "content_type": response.get("Content-Type"),
        "csp": response.get("Content-Security-Policy"),
        "body": body.decode(),
    }
print(json.dumps(answers))
"""
PATHS = [
    "/",
    "/claims/",
    "/claims/some-claim/",
    "/clinics/some-clinic/",
    "/evidence/",
    "/api/claims/",
    "/claims.csv",
    "/healthz",
    "/no-such-page/",
]


def answers_with_database(database_url, paths=PATHS, **env):
    """The site's answers with DATABASE_URL pointing at `database_url`, from a fresh
    interpreter: settings read DATABASE_URL once, at import."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            REQUESTS_WITHOUT_A_DATABASE.replace("PATHS", repr(json.dumps(paths))),
        ],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "test-only-not-secret",
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "CRITICAL",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def without_a_database():
    """The site's answers while the database refuses connections."""
    return answers_with_database(UNREACHABLE_DATABASE)


class HungServer:
    """A TCP server that accepts connections and never answers, as a hung database (or a
    proxy in front of one) does."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self.hold, daemon=True)
        self.thread.start()

    def hold(self):
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self):
        self.listener.close()
        for connection in self.held:
            connection.close()


@pytest.fixture(scope="module")
def with_a_hung_database():
    """The site's answers while the database accepts connections and never answers. Without
    a connect timeout each request would wait for ever (and this fixture's subprocess be
    killed after 120 s); with DATABASE_CONNECT_TIMEOUT=2 each gives up within seconds."""
    server = HungServer()
    try:
        yield answers_with_database(
            f"postgres://postgres@127.0.0.1:{server.port}/claimwatch",
            ["/", "/claims/", "/api/claims/", "/healthz"],
            HEALTH_CHECK_SECONDS="1",
        )
    finally:
        server.close()


@pytest.mark.parametrize("path", ["/", "/claims/"])
def test_it_answers_503_quickly_when_the_database_hangs(with_a_hung_database, path):
    answer = with_a_hung_database[path]
    assert answer["status"] == 503
    assert answer["retry_after"] == str(RETRY_AFTER_SECONDS)


def test_it_answers_the_api_with_a_json_503_when_the_database_hangs(with_a_hung_database):
    answer = with_a_hung_database["/api/claims/"]
    assert answer["status"] == 503
    assert answer["content_type"] == "application/json"


def test_it_reports_a_hung_database_on_healthz(with_a_hung_database):
    answer = with_a_hung_database["/healthz"]
    assert answer["status"] == 503
    assert json.loads(answer["body"]) == {"database": "error", "cache": "not configured"}


def test_it_reports_a_database_that_does_not_answer_in_time(client, db, settings, monkeypatch):
    from claims import health

    settings.HEALTH_CHECK_SECONDS = 0.05
    answered, done = threading.Event(), threading.Event()

    def hang(answer):
        answered.wait(5)
        health._check_running.release()
        done.set()

    monkeypatch.setattr(health, "_ask_database", hang)

    response = client.get(reverse("healthz"))
    again = client.get(reverse("healthz"))  # while the first check still hangs
    answered.set()
    done.wait(5)

    assert response.status_code == again.status_code == 503
    assert response.json()["database"] == "error"


def test_it_sends_the_timeouts_to_postgresql():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "import json; print(json.dumps(settings.DATABASES['default']['OPTIONS']))",
        ],
        cwd=BASE_DIR,
        env={
            "PATH": os.environ["PATH"],
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "DATABASE_URL": UNREACHABLE_DATABASE,
            "DATABASE_CONNECT_TIMEOUT": "3",
            "DATABASE_STATEMENT_TIMEOUT": "4000",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    options = json.loads(result.stdout)
    assert options["connect_timeout"] == 3
    assert options["options"].endswith("-c statement_timeout=4000")


@pytest.mark.parametrize(
    "path", ["/", "/claims/", "/claims/some-claim/", "/clinics/some-clinic/", "/evidence/"]
)
def test_it_answers_503_with_retry_after_when_the_database_is_down(without_a_database, path):
    answer = without_a_database[path]
    assert answer["status"] == 503
    assert answer["retry_after"] == str(RETRY_AFTER_SECONDS)
    assert "briefly unavailable" in answer["body"]
    assert answer["csp"]  # the same headers as every other page


@pytest.mark.parametrize("path", ["/api/claims/", "/claims.csv"])
def test_it_answers_the_api_and_exports_with_a_json_503(without_a_database, path):
    answer = without_a_database[path]
    assert answer["status"] == 503
    assert answer["retry_after"] == str(RETRY_AFTER_SECONDS)
    assert answer["content_type"] == "application/json"
    assert "unavailable" in json.loads(answer["body"])["error"]


def test_it_reports_the_database_down_on_healthz(without_a_database):
    answer = without_a_database["/healthz"]
    assert answer["status"] == 503
    assert json.loads(answer["body"]) == {"database": "error", "cache": "not configured"}


def test_it_renders_the_404_page_without_a_database(without_a_database):
    answer = without_a_database["/no-such-page/"]
    assert answer["status"] == 404
    assert "Page not found" in answer["body"]


# --- Error pages -----------------------------------------------------------------------------


def boom(request):
    raise RuntimeError("Something broke")


# The site's URLconf and error handlers, and a view that raises.
urlpatterns = [path("boom/", boom), *config_urls.urlpatterns]
handler404 = config_urls.handler404
handler500 = config_urls.handler500


@pytest.fixture
def broken_site(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def test_it_renders_the_500_page_without_touching_the_database(
    broken_site, db, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = broken_site.get("/boom/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"Something broke" not in response.content
    assert "Content-Security-Policy" in response


def test_it_renders_the_404_page_without_touching_the_database(
    broken_site, db, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = broken_site.get("/nothing-here/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert reverse("claims:list").encode() in response.content


# --- /healthz --------------------------------------------------------------------------------


def test_it_reports_healthy_with_the_local_cache(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "not configured"}
    assert "no-cache" in response["Cache-Control"]


def redis_cache(location):
    return {
        "default": {
            "BACKEND": "claims.redis_cache.DegradingRedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def redis_down(settings):
    settings.CACHES = redis_cache(UNREACHABLE_REDIS)
    yield caches["default"]


def local_redis():
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.2).close()
    except OSError:
        if not os.environ.get("REDIS_URL"):
            pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_it_reports_a_cache_that_is_down_but_stays_healthy(client, db, redis_down):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "error"}


def test_it_reports_a_working_redis(client, db, settings):
    settings.CACHES = redis_cache(local_redis())
    response = client.get(reverse("healthz"))
    assert response.json() == {"database": "ok", "cache": "ok"}


# --- Redis is down ---------------------------------------------------------------------------


def test_it_serves_every_page_from_the_database_while_redis_is_down(client, claim, redis_down):
    for url in [
        reverse("claims:home"),
        reverse("claims:list"),
        claim.get_absolute_url(),
        reverse("claims:api-claims"),
        reverse("claims:export-csv"),
        reverse("claims:feed"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert claim.title.encode() in client.get(reverse("claims:list")).content


def test_it_answers_as_an_empty_cache_while_redis_is_down(redis_down):
    assert isinstance(redis_down, DegradingRedisCache)
    assert redis_down.get("key", "default") == "default"
    assert redis_down.add("key", 1) is False
    assert redis_down.set("key", 1) is None
    assert redis_down.get_many(["a", "b"]) == {}
    assert redis_down.set_many({"a": 1}) == []
    assert redis_down.has_key("key") is False
    assert redis_down.delete("key") is False
    assert redis_down.get_or_set("key", 42) == 42
    with pytest.raises(ValueError):
        redis_down.incr("counter")


def test_it_leaves_redis_alone_for_a_while_after_a_failure(redis_down, monkeypatch):
    redis_down.get("key")
    calls = []
    monkeypatch.setattr(redis_down._cache, "get_client", lambda *a, **k: calls.append(a))
    for _ in range(10):
        redis_down.get("key")
    assert calls == []


def test_it_caches_in_redis_when_it_is_up(settings):
    settings.CACHES = redis_cache(local_redis())
    cache = caches["default"]
    cache.set("claimwatch:test-key", {"a": 1}, 10)
    assert cache.get("claimwatch:test-key") == {"a": 1}
    cache.delete("claimwatch:test-key")


# --- Redis cut off, then back ----------------------------------------------------------------


@pytest.fixture
def partitioned_redis(settings, monkeypatch):
    """A real Redis whose network path can be cut: while cut, every call fails as a timeout
    would, and Redis itself keeps its data, as it does when only the network is lost."""
    from redis.exceptions import TimeoutError as RedisTimeout

    from claims import data_version as versioning

    settings.CACHES = redis_cache(local_redis())
    redis = caches["default"]
    redis.clear()
    client_class = redis._cache
    path = {"cut": False}
    real_get_client = client_class.get_client

    def get_client(*args, **kwargs):
        if path["cut"]:
            raise RedisTimeout("Timeout reading from socket")
        return real_get_client(*args, **kwargs)

    monkeypatch.setattr(client_class, "get_client", get_client)
    # Each process trusts its version for a second: the test moves past that at once.
    monkeypatch.setattr(versioning, "VERSION_CHECK_SECONDS", 0)

    def cut():
        path["cut"] = True

    def restore():
        path["cut"] = False
        client_class.down_until = 0.0  # as after RETRY_AFTER_SECONDS

    yield cut, restore
    restore()
    redis.clear()


def test_it_never_brings_back_a_retracted_claim_when_redis_returns(
    client, claim, settings, partitioned_redis
):
    from claims.data_version import local_pages
    from claims.models import Claim

    settings.PAGE_CACHE_SECONDS = 300
    cut, restore = partitioned_redis
    other = make_claim()
    api = reverse("claims:api-claims")
    pages = [reverse("claims:list"), api]
    for url in pages:
        client.get(url)  # cached in Redis, both claims listed
    assert client.get(api).json()["count"] == 2

    cut()
    other.state = Claim.State.RETRACTED
    other.save()
    assert client.get(api).json()["count"] == 1  # the outage: served from the database
    restore()
    local_pages.clear()  # another app server, or this one a second later

    assert client.get(api).json()["count"] == 1
    assert other.title not in client.get(reverse("claims:list")).text
    assert claim.title in client.get(reverse("claims:list")).text


def test_it_serves_cached_pages_with_the_cache_copy_of_the_version_while_the_database_is_down(
    client, claim, settings, monkeypatch
):
    from django.db import OperationalError

    from claims import data_version as versioning
    from claims.models import DataVersion

    settings.PAGE_CACHE_SECONDS = 300
    url = reverse("claims:list")
    first = client.get(url)
    versioning.local_pages.clear()

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(type(DataVersion.objects.none()), "first", unreachable)

    assert client.get(url).content == first.content


def test_it_answers_an_uncached_page_at_once_after_the_version_could_not_be_read(
    client, claim, settings, monkeypatch
):
    from django.db import OperationalError

    from claims.data_version import local_pages
    from claims.models import DataVersion

    settings.PAGE_CACHE_SECONDS = 300
    calls = []

    def unreachable(*args, **kwargs):
        calls.append(1)
        raise OperationalError("connection timed out")

    monkeypatch.setattr(type(DataVersion.objects.none()), "first", unreachable)
    local_pages.clear()
    monkeypatch.setattr("claims.views.claim_list", lambda *a, **k: pytest.fail("the view ran"))

    response = Client(raise_request_exception=False).get(reverse("claims:list") + "?q=x")

    assert response.status_code == 503
    assert calls == [1]
