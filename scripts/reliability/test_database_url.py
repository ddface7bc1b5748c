"""`--database postgres://…` (or SHELF_DATABASE) is refused with one sentence and a non-zero exit, never taken for a file
path: without this guard the URL became a SQLite file under `postgres:/user@host:port/db` in the working directory."""
import os
import shutil
import subprocess
import tempfile

from shelfproc import SHELF

URL = "postgres://shelf@127.0.0.1:1/shelf"


def run(args, env=None):
    work = tempfile.mkdtemp(prefix="shelf-dburl-")
    try:
        proc = subprocess.run([SHELF, *args], cwd=work, capture_output=True, text=True, timeout=30,
                              env=dict(os.environ, **(env or {})))
        return proc, os.listdir(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_postgres_urls_are_refused_with_one_sentence_and_create_nothing():
    cases = [
        (["serve", "--port", "0", "--database", URL], None),
        (["serve", "--port", "0"], {"SHELF_DATABASE": "postgresql://shelf@127.0.0.1:1/shelf"}),
        (["token", "create", "--seller", "demo", "--database", URL], None),
        (["import", "--database", URL, "catalog.csv"], None),
    ]
    for args, env in cases:
        proc, created = run(args, env)
        assert proc.returncode != 0, (args, proc.stdout, proc.stderr)
        assert "is not supported yet" in proc.stderr and "SQLite file" in proc.stderr, proc.stderr
        assert "Fatal error" not in proc.stderr and "Stack" not in proc.stderr, proc.stderr
        assert created == [], (args, created)
