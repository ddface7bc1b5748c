"""Crash test: kill -9 the real server while it acknowledges events at a steady rate; after a restart every acknowledged
event is present (replaying its Idempotency-Key answers `duplicate` with the same sequence), the snapshot equals a replay of
the ledger for every touched SKU, and pending pushes are still in the outbox."""
import os
import signal
import sqlite3
import tempfile
import threading
import time

from shelfproc import Shelf, call, create_token, free_port, make_fixtures

SKUS = ["TEE-RED-M", "TEE-RED-L", "MUG-RED-11OZ", "CAP-RED-OS", "HOOD-RED-M"]


def start(db, port, fixtures=True):
    """`shelf serve` on `db`; with the demo fixtures, its channels point at a port nobody listens on, so pushes stay owed."""
    directory = None
    if fixtures:
        directory, _ = make_fixtures(tempfile.mkdtemp(dir=os.path.dirname(db)), port, free_port())
    return Shelf(os.path.dirname(db), db, port, directory).proc


def test_kill_9_loses_no_acknowledged_event():
    tmp = tempfile.mkdtemp(prefix="shelf-crash-")
    db = os.path.join(tmp, "shelf.sqlite")
    token = create_token(db, "admin")
    port = free_port()
    proc = start(db, port)
    base = f"http://127.0.0.1:{port}"
    acked = {}  # key -> sequence
    stop = threading.Event()

    def producer(n):
        i = 0
        while not stop.is_set() and i < 5000:
            key = f"crash-{n}-{i}"
            sku = SKUS[(n + i) % len(SKUS)]
            try:
                status, body = call("POST", f"{base}/v1/events", token, {"type": "order.confirmed", "sku": sku, "qty": 1, "channel": "amazon"},
                                    {"Idempotency-Key": key}, timeout=2)
            except Exception:
                return  # the server died mid-request: this event was never acknowledged
            if status == 202:
                acked[key] = (body["sequence"], sku)
            i += 1
            time.sleep(0.002)

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(2.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert len(acked) > 50, f"too few events acknowledged before the crash: {len(acked)}"

    port = free_port()
    proc = start(db, port, fixtures=False)
    base = f"http://127.0.0.1:{port}"
    try:
        # Every acknowledged event is present: its key answers duplicate with the original sequence.
        for key, (sequence, sku) in acked.items():
            status, body = call("POST", f"{base}/v1/events", token, {"type": "order.confirmed", "sku": sku, "qty": 1, "channel": "amazon"},
                                {"Idempotency-Key": key})
            assert status == 202 and body["status"] == "duplicate" and body["sequence"] == sequence, (key, status, body)
        # The rebuilt snapshot equals a replay of the ledger for every touched SKU.
        now = time.strftime("%Y-%m-%dT%H:%M:%S.999Z", time.gmtime(time.time() + 1))
        for sku in SKUS:
            _, live = call("GET", f"{base}/v1/stock/{sku}", token)
            _, replay = call("GET", f"{base}/v1/stock/{sku}?at={now}", token)
            assert live["total"] == replay["total"], (sku, live["total"], replay["total"])
            assert live["locations"] == replay["locations"], sku
        # Nothing was dropped: every touched SKU is still owed a push (outbox, retry or dead letter; no simulator runs here).
        pending = {row[0] for row in sqlite3.connect(db).execute("SELECT sku FROM outbox UNION SELECT sku FROM deliveries UNION SELECT sku FROM dlq")}
        touched = {sku for _, sku in acked.values()}
        assert touched <= pending, touched - pending
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_sigterm_shuts_down_gracefully_and_the_data_survives():
    tmp = tempfile.mkdtemp(prefix="shelf-term-")
    db = os.path.join(tmp, "shelf.sqlite")
    token = create_token(db, "admin")
    port = free_port()
    proc = start(db, port)
    status, body = call("POST", f"http://127.0.0.1:{port}/v1/events", token, {"type": "stock.received", "sku": "TEE-RED-M", "qty": 5},
                        {"Idempotency-Key": "term-1"})
    assert status == 202, body
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0  # every service stops on graceful shutdown; a hung service would time out here
    port = free_port()
    proc = start(db, port, fixtures=False)
    try:
        status, again = call("POST", f"http://127.0.0.1:{port}/v1/events", token, {"type": "stock.received", "sku": "TEE-RED-M", "qty": 5},
                             {"Idempotency-Key": "term-1"})
        assert status == 202 and again["status"] == "duplicate" and again["sequence"] == body["sequence"]
    finally:
        proc.kill()
        proc.wait(timeout=10)
