"""Start-up inside the service group: `shelf serve` listens at once, `/livez` answers 200 while the snapshot is built,
`/readyz` and every API route answer 503 `not-ready` problems with progress and Retry-After until it is ready, SIGTERM during
the rebuild exits cleanly within 2 s, and the next start finishes and serves every SKU. The database is grown to ~120k SKUs
by copying the demo rows in SQL, so the rebuild takes long enough to be caught in the middle."""
import os
import signal
import sqlite3
import subprocess
import time

from shelfproc import SHELF, Shelf, Stack, free_port, request

COPIES = 600  # 200 demo SKUs × 601


def inflate(db, copies):
    with sqlite3.connect(db) as c:
        for table in ("skus", "sku_heads", "stock", "listings"):
            cols = [r[1] for r in c.execute(f"PRAGMA table_info({table})")]
            select = ", ".join("sku || '~' || n.k" if col == "sku" else col for col in cols)
            c.execute(f"WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < {copies}) "
                      f"INSERT INTO {table} ({', '.join(cols)}) SELECT {select} FROM {table}, n WHERE instr(sku, '~') = 0")
        return c.execute("SELECT COUNT(*) FROM skus").fetchone()[0]


def not_ready(reply):
    """A 503 `not-ready` problem document with Retry-After; its body."""
    assert reply.status == 503 and reply.content_type == "application/problem+json", reply
    assert reply.headers.get("retry-after") == "1" and "x-request-id" in reply.headers, reply.headers
    body = reply.json
    assert body["type"].endswith("/not-ready") and body["status"] == 503, body
    return body


def start(db, port, log):
    out = open(log, "a")
    return subprocess.Popen([SHELF, "serve", "--host", "127.0.0.1", "--port", str(port), "--database", db], stdout=out,
                            stderr=subprocess.STDOUT, env=dict(os.environ, SHELF_LOG_LEVEL="info"))


def first_answer(url, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            return request("GET", url, timeout=2)
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"no answer from {url}")


def test_the_server_answers_while_the_snapshot_is_built_and_stops_cleanly_during_it():
    with Stack(sim=False, push=False, prefix="shelf-startup-") as stack:
        stack.shelf.stop()
        total = inflate(stack.db, COPIES)
        assert total == 200 * (COPIES + 1)
        # Rows copied in SQL are not in the ledger's events: the checkpoint the first server left would be refused (its SKU
        # counts differ) after it was read. This test is about the rebuild: start without one.
        checkpoint = stack.db + ".snapshot"
        assert os.path.exists(checkpoint), "the first server left no snapshot checkpoint at shutdown"
        os.remove(checkpoint)
        port = free_port()
        log = os.path.join(stack.work, "startup.log")
        base = f"http://127.0.0.1:{port}"

        proc = start(stack.db, port, log)
        try:
            assert first_answer(f"{base}/livez", proc).status == 200
            body = not_ready(request("GET", f"{base}/readyz"))
            while body["progress"]["total"] == 0:  # the rebuild has not counted the SKUs yet
                time.sleep(0.02)
                body = not_ready(request("GET", f"{base}/readyz"))
            assert body["progress"]["total"] == total and 0 <= body["progress"]["loaded"] <= total and body["progress"]["percent"] < 100
            # Every API route is refused the same way until the snapshot is ready (not answered from an empty snapshot).
            not_ready(request("GET", f"{base}/v1/catalog", stack.admin))
            # The rebuild moves: a later answer has loaded more (or is ready). Progress is counted in steps of 4,096 rows, and a
            # step can take a while on a busy machine: wait for the next one (bounded), not for a fixed time.
            deadline = time.monotonic() + 20
            later = request("GET", f"{base}/readyz")
            while later.status == 503 and later.json["progress"]["loaded"] <= body["progress"]["loaded"] and time.monotonic() < deadline:
                time.sleep(0.05)
                later = request("GET", f"{base}/readyz")
            assert later.status == 200 or later.json["progress"]["loaded"] > body["progress"]["loaded"], later.json
            assert later.status == 503, "the rebuild finished too fast for this test to stop it; grow COPIES"
            # SIGTERM in the middle of the rebuild: a clean exit within 2 s.
            sent = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=10)
            elapsed = time.monotonic() - sent
            assert code == 0, open(log).read()[-2000:]
            assert elapsed <= 2.0, f"exited {elapsed:.2f} s after SIGTERM"
        finally:
            if proc.poll() is None:
                proc.kill()
        assert "start-up stopped before the snapshot was ready" in open(log).read()

        # The next start finishes: every SKU is served, and the API answers.
        shelf = Shelf(stack.work, stack.db, port)
        try:
            ready = shelf.call("GET", "/readyz", None)
            assert ready.status == 200 and ready.json["skus"] == total, ready
            copy = shelf.call("GET", "/v1/stock/TEE-RED-M~600", stack.admin)
            original = shelf.call("GET", "/v1/stock/TEE-RED-M", stack.admin)
            assert copy.status == 200 and copy.json["total"] == original.json["total"]
        finally:
            shelf.stop()
