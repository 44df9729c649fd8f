"""`make audit`: Lighthouse's four scores (mobile) for the home page, /claims/ and a claim page,
on the seed, served as in production (gunicorn, DEBUG off, collected static files).

The seed is loaded into a throwaway SQLite database; Lighthouse (tests/audit, pinned) drives
Debian's Chromium. Prints a Markdown table; `--record docs/lighthouse.md` also writes it there.
Lighthouse is slow and its performance score varies from run to run, so this is not part of
`make test`: the conformance tests check the rules themselves."""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from faults import start_gunicorn  # bench/ is on the path: these scripts run as files

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "tests" / "audit" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]


def django_env(database):
    return {
        "PATH": os.environ["PATH"],
        "DEBUG": "0",
        "SECRET_KEY": "audit-only-not-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "CRITICAL",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def scores(url, chromium):
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run(
            [
                str(LIGHTHOUSE),
                url,
                f"--chrome-path={chromium}",
                "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
                f"--only-categories={','.join(CATEGORIES)}",
                "--form-factor=mobile",
                "--output=json",
                f"--output-path={report.name}",
                "--quiet",
            ],
            check=True,
            timeout=180,
        )
        categories = json.loads(Path(report.name).read_text())["categories"]
    return {name: round(categories[name]["score"] * 100) for name in CATEGORIES}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--record", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: run `make audit`, which installs tests/audit.")

    with tempfile.TemporaryDirectory() as directory:
        env = django_env(Path(directory) / "audit.sqlite3")
        for command in (["migrate", "--noinput"], ["loaddata", "fixtures/seed.json"]):
            subprocess.run(
                [sys.executable, "manage.py", *command, "--verbosity", "0"],
                cwd=ROOT,
                env=env,
                check=True,
            )
        slug = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", SLUG_QUERY],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()[-1]  # after the shell's "N objects imported" line
        server = start_gunicorn(env, args.port)
        try:
            base = f"http://127.0.0.1:{args.port}"
            rows = [(path, scores(base + path, args.chromium)) for path in audited_paths(slug)]
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)

    lines = [
        "| page | " + " | ".join(CATEGORIES) + " |",
        "|---|" + "---:|" * len(CATEGORIES),
        *(
            f"| `{path}` | " + " | ".join(str(row[c]) for c in CATEGORIES) + " |"
            for path, row in rows
        ),
    ]
    table = "\n".join(lines)
    print(table)
    if args.record:
        args.record.write_text(
            "# Lighthouse, mobile, on the seed\n\n"
            "`make audit` (bench/audit.py): gunicorn with DEBUG off on SQLite, Lighthouse "
            "(tests/audit/package.json) in Debian's Chromium, mobile form factor with its "
            "default throttling. Performance varies a few points between runs.\n\n"
            f"Recorded {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n{table}\n"
        )


SLUG_QUERY = (
    "from claims.models import Claim; "
    "print(Claim.objects.published().order_by('slug').values_list('slug', flat=True).first())"
)


def audited_paths(slug):
    return ["/", "/claims/", f"/claims/{slug}/"]


if __name__ == "__main__":
    main()
