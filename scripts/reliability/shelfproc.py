"""Shared helpers for the reliability tests: real `shelf serve` and `shelf-sim` processes on free loopback ports, temporary
SQLite files and fixture copies, plain urllib HTTP calls, and bounded waits. Python 3 standard library only.

Binaries: SHELF_BIN (default .build/debug/shelf) and SHELF_SIM_BIN (default: shelf-sim next to SHELF_BIN)."""
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHELF = os.environ.get("SHELF_BIN", os.path.join(ROOT, ".build", "debug", "shelf"))
SIM = os.environ.get("SHELF_SIM_BIN", os.path.join(os.path.dirname(SHELF), "shelf-sim"))
DEMO = os.path.join(ROOT, "fixtures", "demo")
SELLER = "demo"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Reply:
    """An HTTP answer: status, lower-cased headers, raw body and the body parsed as JSON (None when it is not JSON)."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.raw = raw
        try:
            self.json = json.loads(raw) if raw else None
        except ValueError:
            self.json = None

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def __repr__(self):
        return f"Reply({self.status}, {self.raw[:300]!r})"


def request(method, url, token=None, body=None, headers=None, timeout=10, raw=None, content_type="application/json"):
    """One HTTP call. `body` is sent as JSON; `raw` as given bytes (with `content_type`, None for no Content-Type header)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    if data is not None and content_type is not None:
        req.add_header("Content-Type", content_type)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers), e.read())


def generic_webhook(payload, secret):
    """(raw body, headers) of a generic-channel webhook delivery signed with `secret` (X-Shelf-Signature, a fresh event id)."""
    raw = json.dumps(payload).encode()
    headers = {"X-Shelf-Signature": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest(),
               "X-Shelf-Event-Id": uuid.uuid4().hex}
    return raw, headers


def call(method, url, token, body=None, headers=None, timeout=5):
    """(status, parsed JSON body or {}) — the short form the crash tests use."""
    reply = request(method, url, token, body, headers, timeout)
    return reply.status, reply.json if reply.json is not None else {}


def eventually(what, condition, timeout=20.0, interval=0.05):
    """Polls `condition` until it returns something truthy (returned), failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def wait_http(url, proc, timeout, log):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) before {url} answered; log:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout}s; log:\n{tail(log)}")


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def stop(proc, sig=signal.SIGTERM, timeout=15):
    """Stops one process we started (by its own pid), escalating to SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def stock_at_first_location(stock, unbuffered=True):
    """A `catalog_patch` for make_fixtures: each SKU in `stock` ({sku: units}) holds its units at its first location only,
    with no safety stock, holds or commitments; with `unbuffered`, its listings keep no channel buffer either (every
    storefront displays exactly the stock)."""
    def patch(line):
        sku = line["item"]["sku"]
        if sku in stock:
            for i, level in enumerate(line["levels"]):
                level["level"].update(onHand=stock[sku] if i == 0 else 0, safetyStock=0, unavailable=0, committed=0, reserved=0)
            if unbuffered:
                for listing in line["listings"]:
                    listing["buffer"] = 0
    return patch


def cluster_leader(node):
    """1 when the node runs the singletons (its /metrics' shelf_cluster_leader), 0 when it follows, None when it does not
    answer."""
    try:
        reply = request("GET", node.url("/metrics"), timeout=2)
    except OSError:
        return None
    match = re.search(r"^shelf_cluster_leader(?:\{[^}]*\})? (\d+)", reply.raw.decode(), re.M)
    return int(match.group(1)) if match else None


def make_fixtures(work, shelf_port, sim_port, push=True, catalog_patch=None, sim_webhooks=True, sim_limits=None, keep_skus=None):
    """Copies fixtures/demo into `work`: Shelf's connections point at shelf-sim on `sim_port`, the simulator's webhooks at
    Shelf on `shelf_port`. `catalog_patch(line_dict)` may edit each catalog line; `keep_skus` keeps only those SKUs (a small
    catalog starts fast and its first pushes fit the channels' budgets); `sim_limits` = (perSecond, burst) overrides every
    connection's rate budget. Returns (shelf fixtures dir, sim fixtures dir)."""
    shelf_dir = os.path.join(work, "fixtures")
    sim_dir = os.path.join(work, "sim")
    os.makedirs(shelf_dir)
    os.makedirs(sim_dir)
    for name in ("channels.json", "locations.json", "seller.json"):
        shutil.copy(os.path.join(DEMO, name), shelf_dir)
    with open(os.path.join(DEMO, "connections.json")) as f:
        connections = json.load(f)
    for c in connections:
        c["baseURL"] = c["baseURL"].replace("127.0.0.1:9090", f"127.0.0.1:{sim_port}")
        c["pushEnabled"] = push
    with open(os.path.join(shelf_dir, "connections.json"), "w") as f:
        json.dump(connections, f, indent=2)
    with open(os.path.join(DEMO, "catalog.jsonl")) as src, open(os.path.join(shelf_dir, "catalog.jsonl"), "w") as dst:
        for line in src:
            if line.strip():
                d = json.loads(line)
                if keep_skus is not None and d["item"]["sku"] not in keep_skus:
                    continue
                if catalog_patch:
                    catalog_patch(d)
                dst.write(json.dumps(d, sort_keys=True) + "\n")
    with open(os.path.join(DEMO, "sim", "connections.json")) as f:
        sim_connections = json.load(f)
    for c in sim_connections:
        if sim_webhooks:
            c["webhookURL"] = c["webhookURL"].replace("127.0.0.1:8080", f"127.0.0.1:{shelf_port}")
        else:
            c.pop("webhookURL", None)
        if sim_limits:
            c["rateLimitPerSecond"], c["burst"] = sim_limits
    with open(os.path.join(sim_dir, "connections.json"), "w") as f:
        json.dump(sim_connections, f, indent=2)
    shutil.copy(os.path.join(DEMO, "sim", "items.json"), sim_dir)
    return shelf_dir, sim_dir


class Sim:
    """A `shelf-sim` process."""

    def __init__(self, work, port, fixtures, name="sim"):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = os.path.join(work, f"{name}.log")
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([SIM, "--host", "127.0.0.1", "--port", str(port), "--fixtures", fixtures],
                                         stdout=out, stderr=subprocess.STDOUT)
        wait_http(f"{self.base}/_sim/healthz", self.proc, 30, self.log)

    def control(self, method, path, body=None, timeout=30):
        reply = request(method, f"{self.base}/_sim/{path.lstrip('/')}", body=body, timeout=timeout)
        assert reply.status < 500, (method, path, reply)
        return reply

    def items(self, connection):
        return {i["externalId"]: i for i in self.control("GET", f"connections/{connection}/items").json["items"]}

    def connections(self):
        return {c["id"]: c for c in self.control("GET", "connections").json["connections"]}

    def pushes(self, **query):
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return self.control("GET", f"pushes?{q}").json["pushes"]

    def stop(self):
        stop(self.proc)


class Shelf:
    """A `shelf serve` process on a temporary SQLite file."""

    def __init__(self, work, db, port, fixtures=None, name="shelf"):
        self.db = db
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log = os.path.join(work, f"{name}.log")
        args = [SHELF, "serve", "--host", "127.0.0.1", "--port", str(port), "--database", db]
        if fixtures:
            args += ["--fixtures", fixtures]
        env = dict(os.environ, SHELF_LOG_LEVEL=os.environ.get("SHELF_LOG_LEVEL", "warning"))
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
        wait_http(f"{self.base}/readyz", self.proc, 90, self.log)

    def url(self, path):
        return self.base + path

    def call(self, method, path, token, body=None, headers=None, timeout=10, **kw):
        return request(method, self.base + path, token, body, headers, timeout, **kw)

    def stop(self, sig=signal.SIGTERM):
        stop(self.proc, sig)

    def alive(self):
        return self.proc.poll() is None

    def crashed(self):
        """True when the log shows a crash (a Swift trap) — never expected, whatever the input."""
        text = tail(self.log, 100000)
        return any(s in text for s in ("Fatal error", "Program crashed", "Illegal instruction", "Segmentation fault"))


def create_token(db, scopes, seller=SELLER, ttl=None, label="reliability"):
    args = [SHELF, "token", "create", "--database", db, "--seller", seller, "--scopes", scopes, "--label", label]
    if ttl:
        args += ["--ttl", ttl]
    return subprocess.check_output(args, timeout=60).decode().strip()


def token_id(token):
    """The id part of `shelf_<id>_<secret>`."""
    return token[len("shelf_"):].split("_")[0]


class Stack:
    """Shelf (+ optionally shelf-sim) on a fresh temporary database with a copy of the demo fixtures. Use as a context
    manager; `admin` is a read,ingest,admin token of the demo seller."""

    def __init__(self, sim=True, push=True, catalog_patch=None, sim_limits=None, keep_skus=None, prefix="shelf-rel-"):
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.db = os.path.join(self.work, "shelf.sqlite")
        self.shelf_port = free_port()
        self.sim_port = free_port()
        self.fixtures, self.sim_fixtures = make_fixtures(self.work, self.shelf_port, self.sim_port, push=push,
                                                         catalog_patch=catalog_patch, sim_limits=sim_limits, keep_skus=keep_skus)
        self.with_sim = sim
        self.sim = None
        self.shelf = None

    def __enter__(self):
        try:
            self.admin = create_token(self.db, "read,ingest,admin", label="reliability admin")
            if self.with_sim:
                self.sim = Sim(self.work, self.sim_port, self.sim_fixtures)
            self.shelf = Shelf(self.work, self.db, self.shelf_port, self.fixtures)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()
        if exc[0] is None:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print(f"kept {self.work} for inspection")

    def close(self):
        if self.shelf:
            self.shelf.stop()
        if self.sim:
            self.sim.stop()

    # Reads used by many tests.

    def stock(self, sku, token=None):
        reply = self.shelf.call("GET", f"/v1/stock/{sku}", token or self.admin)
        assert reply.status == 200, (sku, reply)
        return reply.json

    def sql(self, query, args=()):
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10) as conn:
            return conn.execute(query, args).fetchall()

    def fingerprint(self):
        """Everything a request could change: the ledger head, state tables, holds, idempotency keys, the demo seller's
        tokens, connections, DLQ."""
        return {
            "sequence": self.sql("SELECT COALESCE(MAX(sequence), 0), COUNT(*) FROM events")[0],
            "stock": self.sql("SELECT sku, location, onHand, committed, reserved, unavailable, safetyStock, incoming, oversold, version "
                              "FROM stock ORDER BY seller, sku, location"),
            "skus": self.sql("SELECT COUNT(*), SUM(priceAmount), SUM(active) FROM skus"),
            "listings": self.sql("SELECT sku, channel, listed, buffer, priceAmount FROM listings ORDER BY seller, sku, channel"),
            "holds": self.sql("SELECT id, sku, qty FROM holds ORDER BY id"),
            "idempotency": self.sql("SELECT COUNT(*) FROM idempotency"),
            "tokens": self.sql("SELECT id, revokedAt FROM tokens WHERE seller = ? ORDER BY id", (SELLER,)),
            "connections": self.sql("SELECT id, baseURL, webhookSecret, pushEnabled FROM connections ORDER BY seller, id"),
            "dlq": self.sql("SELECT COUNT(*) FROM dlq"),
        }

    def published(self, sku):
        """{connection: quantity Shelf publishes} for the SKU's listings."""
        return {c["connection"]: c["publishedQuantity"] for c in self.stock(sku)["channels"] if c.get("connection")}

    def listings(self, sku):
        """{connection: externalId} of the SKU's listings."""
        return {c["connection"]: c["externalId"] for c in self.stock(sku)["channels"] if c.get("connection")}


def assert_problem(reply, status=None, field=None, kind=None):
    """An RFC 9457 problem with a consistent status (and the field / type suffix when given); never a 5xx."""
    assert 400 <= reply.status < 500, reply
    if status is not None:
        assert reply.status == status, reply
    assert reply.content_type == "application/problem+json", (reply.headers.get("content-type"), reply)
    body = reply.json
    assert isinstance(body, dict), reply
    for key in ("type", "title", "status", "detail"):
        assert key in body, (key, reply)
    assert body["status"] == reply.status, reply
    if field is not None:
        assert body.get("field") == field, (field, reply)
    if kind is not None:
        assert body["type"].endswith("/" + kind), (kind, reply)
    return body


FIGURES = []


def report(line):
    """Records a figure for the end-of-run summary (conftest.py prints them even when every test passes) and prints it."""
    FIGURES.append(line)
    print(line)


class PostgresCluster:
    """A throwaway PostgreSQL server: `initdb` into a temporary directory, `pg_ctl start` on a free 127.0.0.1 port (as the
    `postgres` or `nobody` user when run as root, which initdb refuses), `pg_ctl stop -m immediate` and the directory removed
    on close. Use as a context manager; `create_database()` answers a `postgres://` URL of a fresh, empty database.
    Tests run it without fsync (fast, nothing to keep); `durable=True` (benchmarks) keeps PostgreSQL's crash-safe settings:
    fsync, synchronous_commit and full_page_writes on."""

    def __init__(self, durable=False):
        self.durable = durable
        self.bin = self.binaries()
        self.dir = tempfile.mkdtemp(prefix="shelf-rel-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.run_as = None
        if os.geteuid() == 0:
            import pwd
            for user in ("postgres", "nobody"):
                try:
                    pw = pwd.getpwnam(user)
                except KeyError:
                    continue
                os.chown(self.dir, pw.pw_uid, pw.pw_gid)
                self.run_as = user
                break
        self.started = False

    @staticmethod
    def binaries():
        """Where initdb and pg_ctl live: on PATH, else Debian's /usr/lib/postgresql/<version>/bin."""
        found = shutil.which("initdb")
        if found and shutil.which("pg_ctl"):
            return os.path.dirname(os.path.realpath(found))
        root = "/usr/lib/postgresql"
        for version in sorted((v for v in os.listdir(root) if v.isdigit()), key=int, reverse=True) if os.path.isdir(root) else []:
            if os.access(os.path.join(root, version, "bin", "initdb"), os.X_OK):
                return os.path.join(root, version, "bin")
        raise AssertionError("PostgreSQL's initdb and pg_ctl were not found (Debian: apt-get install postgresql)")

    def tool(self, name, *args, timeout=60):
        argv = [os.path.join(self.bin, name), *args]
        if self.run_as:
            argv = ["/usr/bin/setpriv", f"--reuid={self.run_as}", f"--regid={self.run_as}", "--clear-groups", "--", *argv]
        out = os.path.join(self.dir, f"{name}.out")
        with open(out, "w") as f:
            code = subprocess.call(argv, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT, timeout=timeout, cwd=self.dir)
        assert code == 0, f"{name} {' '.join(args)} failed ({code}):\n{tail(out)}"

    def __enter__(self):
        try:
            self.tool("initdb", "-D", self.data, "-U", "shelf", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
            durability = ("-c fsync=on -c synchronous_commit=on -c full_page_writes=on" if self.durable
                          else "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} {durability}"
            self.tool("pg_ctl", "start", "-w", "-D", self.data, "-l", os.path.join(self.dir, "server.log"), "-o", options)
            self.started = True
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.started:
            try:
                self.tool("pg_ctl", "stop", "-m", "immediate", "-D", self.data)
            except AssertionError:
                pass
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database):
        return f"postgres://shelf@127.0.0.1:{self.port}/{database}"

    def create_database(self):
        name = "r_" + uuid.uuid4().hex
        self.tool("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "shelf", name)
        return self.url(name)
