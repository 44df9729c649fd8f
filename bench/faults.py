"""`make faults`: the site under gunicorn while its PostgreSQL and Redis fail, on this machine.

gunicorn (gunicorn.conf.py, DEBUG off, two sync workers) reaches PostgreSQL and Redis through
a small TCP proxy this script starts on the loopback and then cuts, hangs and restores:

- refused: the proxy stops listening, as when the database is down;
- hung: the proxy accepts connections and forwards nothing, as a hung server or a dead network
  path does (TCP keeps the connection open; nothing answers);
- restored: the proxy forwards again.

For each state it times a set of URLs and records the status codes; then it retracts a claim
while the path to Redis is cut and checks that the retraction survives the path coming back.
Every wait is bounded: a run takes about a minute. The figures go to docs/faults.md by hand
(the script prints the table).

    python bench/faults.py [--database-url postgres://postgres@127.0.0.1:5432/cw_h13]
        [--redis-url redis://127.0.0.1:6379/13] [--port 8013]
"""

import argparse
import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REQUEST_TIMEOUT = 40  # longer than gunicorn's 30 s: a worker killed by it shows as its 500
URLS = ["/healthz", "/", "/claims/", "/claims/?route=intradermal-injection", "/api/claims/"]


class Proxy:
    """A TCP proxy on 127.0.0.1 whose forwarding can be refused, hung or restored."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.mode = "forward"
        self.listener = None
        self.port = None
        self.pairs = []
        self.lock = threading.Lock()
        self.listen()

    def listen(self):
        self.listener = socket.create_server(("127.0.0.1", self.port or 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, args=(self.listener,), daemon=True).start()

    def accept(self, listener):
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return
            if self.mode == "hang":
                with self.lock:
                    self.pairs.append((client, None))  # held open, never answered
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, server))
            threading.Thread(target=self.pipe, args=(client, server), daemon=True).start()

    def pipe(self, client, server):
        sockets = [client, server]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 0.2)
                if self.mode == "hang":
                    time.sleep(0.2)  # what arrives is left unread: nothing goes through
                    continue
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (server if source is client else client).sendall(data)
        except (OSError, ValueError):  # closed under us by refuse() or restore()
            return
        finally:
            client.close()
            server.close()

    def refuse(self):
        """Stop listening and drop every connection: new ones are refused at once."""
        self.mode = "refuse"
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked on it
        self.listener.close()
        self.drop_all()

    def hang(self):
        """Keep every connection open and answer nothing, old or new."""
        if self.mode == "refuse":
            self.listen()
        self.mode = "hang"

    def restore(self):
        if self.mode == "refuse":
            self.listen()
        self.mode = "forward"
        self.drop_all()  # the held connections were hung; clients reconnect

    def drop_all(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for sock in pair:
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()


def through(url, proxy):
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{proxy.port}"))


def fetch(base, path):
    start = time.monotonic()
    try:
        with urllib.request.urlopen(base + path, timeout=REQUEST_TIMEOUT) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    except OSError as error:
        return {"path": path, "status": f"failed: {error}", "seconds": time.monotonic() - start}
    return {"path": path, "status": status, "seconds": time.monotonic() - start, "body": body}


def django_env(args, db_proxy, redis_proxy, **extra):
    return {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": "faults-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": through(args.database_url, db_proxy),
        "REDIS_URL": through(args.redis_url, redis_proxy),
        "CONN_MAX_AGE": "60",  # persistent connections, as in production: the harder case
        "PAGE_CACHE_SECONDS": "300",
        "LOG_LEVEL": "CRITICAL",
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }


def manage(env, *command):
    subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=300
    )


def start_gunicorn(env, port):
    command = [
        str(BIN / "gunicorn"),
        "--config",
        "gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "config.wsgi:application",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
            return process
        except urllib.error.HTTPError:
            return process
        except OSError:
            time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("gunicorn did not start")


def run_state(base, name, paths=URLS):
    rows = []
    for path in paths:
        answer = fetch(base, path)
        answer.pop("body", None)
        rows.append({"state": name, **answer})
    return rows


def retract_one_claim(env):
    """Retract a published claim from another process, as an editor's save would, with the
    same (possibly cut) path to Redis."""
    code = (
        "import django; django.setup()\n"
        "from claims.models import Claim\n"
        "claim = Claim.objects.published().order_by('pk').first()\n"
        "claim.state = Claim.State.RETRACTED\n"
        "claim.save()\n"
        "print(claim.slug)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    if result.returncode:
        raise RuntimeError(result.stderr)
    return result.stdout.strip()


def republish(env, slug):
    code = (
        "import django; django.setup()\n"
        "from claims.models import Claim\n"
        f"claim = Claim.objects.get(slug={slug!r})\n"
        "claim.state = Claim.State.PUBLISHED\n"
        "claim.save()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=60)


def api_count(base):
    answer = fetch(base, "/api/claims/")
    return json.loads(answer["body"])["count"] if answer["status"] == 200 else answer["status"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cw_h13"),
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--port", type=int, default=8013)
    args = parser.parse_args()

    database = urlsplit(args.database_url)
    redis = urlsplit(args.redis_url)
    db_proxy = Proxy(database.hostname, database.port or 5432)
    redis_proxy = Proxy(redis.hostname, redis.port or 6379)
    env = django_env(args, db_proxy, redis_proxy)
    direct = {**env, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url}
    manage(direct, "migrate", "--noinput", "--verbosity", "0")
    manage(direct, "loaddata", "fixtures/seed.json", "--verbosity", "0")

    base = f"http://127.0.0.1:{args.port}"
    server = start_gunicorn(env, args.port)
    rows = []
    try:
        run_state(base, "warm-up")
        rows += run_state(base, "healthy (cached)")

        db_proxy.refuse()
        rows += run_state(base, "database refused", [*URLS, "/claims/?route=topical"])
        db_proxy.hang()
        rows += run_state(base, "database hung", [*URLS, "/claims/?route=topical"])
        db_proxy.restore()
        time.sleep(1)
        rows += run_state(base, "database restored", [*URLS, "/claims/?route=topical"])

        before = api_count(base)
        redis_proxy.hang()
        rows += run_state(base, "redis cut")
        slug = retract_one_claim(env)  # its write to Redis is lost
        time.sleep(1.2)  # past each worker's one-second trust in its version
        during = api_count(base)
        redis_proxy.restore()
        time.sleep(6)  # past the cache's 5 s back-off
        after = [api_count(base) for _ in range(4)]
        republish(direct, slug)
        rows += run_state(base, "redis restored")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    print("| state | URL | status | seconds |")
    print("|---|---|---|---|")
    for row in rows:
        print(f"| {row['state']} | `{row['path']}` | {row['status']} | {row['seconds']:.2f} |")
    print()
    print(
        f"Retraction with the path to Redis cut: API count {before} before, {during} during the "
        f"outage, {after} after the path came back (each should be {before - 1} after)."
    )
    ok = during == before - 1 and all(count == before - 1 for count in after)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
