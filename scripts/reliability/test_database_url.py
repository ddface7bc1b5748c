"""`--database` (or SHELF_DATABASE) takes a SQLite path or a `postgres://` URL. A PostgreSQL server that cannot be reached
ends every command with one sentence and a non-zero exit, creating nothing in the working directory (the URL is never
taken for a file path); a malformed URL is a usage error (64); the help text says what the option takes."""
import os
import shutil
import subprocess
import tempfile

from shelfproc import SHELF

# Port 1 on the loopback: nothing listens there, so the connection is refused at once.
URL = "postgres://shelf@127.0.0.1:1/shelf"


def run(args, env=None):
    work = tempfile.mkdtemp(prefix="shelf-dburl-")
    try:
        proc = subprocess.run([SHELF, *args], cwd=work, capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, **(env or {})))
        return proc, os.listdir(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_an_unreachable_postgres_server_is_one_sentence_and_creates_nothing():
    cases = [
        (["serve", "--port", "0", "--database", URL], None),
        (["serve", "--port", "0"], {"SHELF_DATABASE": "postgresql://shelf@127.0.0.1:1/shelf"}),
        (["token", "create", "--seller", "demo", "--database", URL], None),
        (["import", "--database", URL, "catalog.csv"], None),
        (["seller", "create", "--id", "acme", "--name", "Acme", "--database", URL], None),
        (["audit", "--database", URL], None),
        (["dlq", "list", "--database", URL], None),
    ]
    for args, env in cases:
        proc, created = run(args, env)
        assert proc.returncode == 1, (args, proc.returncode, proc.stdout, proc.stderr)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        error = [line for line in lines if line.startswith("Error:")]
        assert len(error) == 1, proc.stderr
        assert "cannot use the PostgreSQL database postgres://shelf@127.0.0.1:1/shelf" in error[0], proc.stderr
        assert "refused" in error[0].lower(), proc.stderr
        assert "Fatal error" not in proc.stderr and "Stack" not in proc.stderr, proc.stderr
        assert created == [], (args, created)


def test_a_malformed_postgres_url_is_a_usage_error():
    for url, words in [("postgres://shelf@127.0.0.1:1/", "names no database"), ("postgres://127.0.0.1:1/shelf", "names no user"),
                       ("postgres://shelf@127.0.0.1:1/shelf?sslmode=require", "sslmode=disable")]:
        proc, created = run(["token", "create", "--seller", "demo", "--database", url])
        assert proc.returncode == 64, (url, proc.stderr)
        assert words in proc.stderr, proc.stderr
        assert created == [], (url, created)


def test_the_help_text_names_both_kinds_of_database():
    for args in (["serve", "--help"], ["token", "create", "--help"], ["import", "--help"]):
        proc, _ = run(args)
        assert proc.returncode == 0, proc.stderr
        text = " ".join(proc.stdout.split())
        assert "SQLite database file, or a PostgreSQL database as postgres://user[:password]@host[:port]/database" in text, text
        assert "SHELF_DATABASE" in text, text
