"""`shelf serve --database postgres://…` on a throwaway PostgreSQL cluster (initdb/pg_ctl): migrations run on start, the
fixtures load into the empty database, `/readyz` answers, and the CLI's token, seller, audit, dlq, import and rules
commands work on the same database; a restart rebuilds the same offer from PostgreSQL; a schema newer than the binary is one sentence, exit 1."""
import json
import os
import subprocess
import tempfile
import shutil

from shelfproc import SHELF, SELLER, PostgresCluster, Shelf, create_token, free_port, make_fixtures


def shelf(*args, timeout=60):
    return subprocess.run([SHELF, *args], capture_output=True, text=True, timeout=timeout)


def test_serve_on_postgres_answers_readyz_and_the_cli_shares_the_database():
    work = tempfile.mkdtemp(prefix="shelf-rel-pgserve-")
    try:
        with PostgresCluster() as pg:
            url = pg.create_database()
            port = free_port()
            fixtures, _ = make_fixtures(work, port, free_port(), push=False, keep_skus={"TEE-RED-M", "TEE-RED-L"})
            server = Shelf(work, url, port, fixtures=fixtures)
            try:
                token = create_token(url, "read,ingest,admin")
                assert server.call("GET", "/v1/offers/TEE-RED-M", token).status == 200
                before = server.call("GET", "/v1/stock/TEE-RED-M", token).json["total"]
                for _ in range(2):  # the second is the same key: a duplicate, recorded once
                    ingest = server.call("POST", "/v1/events", token, {"type": "order.confirmed", "sku": "TEE-RED-M", "qty": 2},
                                         headers={"Idempotency-Key": "pg-order-1"})
                    assert ingest.status == 202, ingest
                after = server.call("GET", "/v1/stock/TEE-RED-M", token).json["total"]
                assert after["available"] == before["available"] - 2 and after["committed"] == before["committed"] + 2, (before, after)
                offer = server.call("GET", "/v1/offers/TEE-RED-M", token)
            finally:
                server.stop()
            assert server.proc.returncode == 0, server.proc.returncode
            # The CLI on the same database.
            created = shelf("seller", "create", "--id", "acme", "--name", "Acme", "--database", url)
            assert created.returncode == 0 and created.stdout.strip() == "acme", created.stderr
            again = shelf("seller", "create", "--id", "acme", "--name", "Acme", "--database", url)
            assert again.returncode != 0 and "exists already" in again.stderr, again.stderr
            listed = shelf("seller", "list", "--database", url)
            assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == ["acme", SELLER], listed.stdout
            audit = shelf("audit", "--database", url, "--seller", SELLER, "--sku", "TEE-RED-M")
            assert audit.returncode == 0 and audit.stdout.count("order.confirmed") == 1 and "sku.upserted" in audit.stdout, audit
            dlq = shelf("dlq", "list", "--database", url, "--seller", SELLER)
            assert dlq.returncode == 0 and "0 dead letter(s)" in dlq.stdout, dlq
            csv = os.path.join(work, "more.csv")
            with open(csv, "w") as f:
                f.write("sku,productId,title,price,currency,location,onHand\nPG-NEW-1,P-PG,Imported on PostgreSQL,1250,USD,reno,9\n")
            imported = shelf("import", "--database", url, "--seller", SELLER, csv)
            assert imported.returncode == 0 and "imported 1 of 1" in imported.stdout, imported
            rules = shelf("rules", "check", "--database", url, "--seller", SELLER, "When stock of PG-NEW-1 drops below 3, notify ops")
            assert rules.returncode == 0, rules
            # A restart rebuilds the snapshot from PostgreSQL: the same offer (the fixtures are not loaded twice).
            restarted = Shelf(work, url, port, fixtures=fixtures, name="shelf-2")
            try:
                token = create_token(url, "read")
                assert restarted.call("GET", "/v1/stock/TEE-RED-M", token).json["total"] == after
                reread = restarted.call("GET", "/v1/offers/TEE-RED-M", token)
                assert reread.status == 200 and reread.json["price"] == offer.json["price"], (reread.json, offer.json)
                assert restarted.call("GET", "/v1/offers/TEE-RED-L", token).status == 200
                assert restarted.call("GET", "/v1/offers/TEE-BLK-S", token).status == 404  # not in the two SKUs loaded
                imported = restarted.call("GET", "/v1/stock/PG-NEW-1", token)
                assert imported.status == 200 and imported.json["total"]["available"] == 9, imported
            finally:
                restarted.stop()
            # A database written by a newer shelf: refused with one sentence, nothing served.
            database = url.rsplit("/", 1)[1]
            pg.tool("psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "shelf", "-d", database, "-c",
                    "INSERT INTO schema_migrations (version, name) VALUES (999, 'from-the-future')")
            newer = shelf("serve", "--port", str(free_port()), "--database", url)
            assert newer.returncode == 1, (newer.returncode, newer.stderr)
            assert "newer than this binary" in newer.stderr and "Fatal error" not in newer.stderr, newer.stderr
    finally:
        shutil.rmtree(work, ignore_errors=True)
