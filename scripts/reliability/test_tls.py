"""Inbound TLS: `shelf serve --tls-cert/--tls-key` serves HTTPS with a certificate generated here by openssl, checked with curl
(the certificate is verified against the generated CA file, never `-k`). Plain HTTP on the TLS port gets no HTTP answer, TLS
below 1.2 is refused, parse errors still get problem documents behind TLS, and every unusable TLS file stops `shelf serve` at
once with a sentence that names the file."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from shelfproc import DEMO, SHELF, create_token, free_port, stop, tail

CURL = shutil.which("curl") or "curl"  # `make test-deps` installs both
OPENSSL = shutil.which("openssl") or "openssl"


def make_certificate(work, name, common_name="127.0.0.1"):
    cert, key = os.path.join(work, f"{name}.crt"), os.path.join(work, f"{name}.key")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={common_name}",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True, timeout=30)
    return cert, key


def curl(*args, timeout=10):
    """curl's exit code, and its output: the response head and body with -i, then the `-w` line."""
    done = subprocess.run([CURL, "-sS", "--max-time", str(timeout), *args], capture_output=True, timeout=timeout + 5)
    return done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")


@pytest.fixture(scope="module")
def https():
    work = tempfile.mkdtemp(prefix="shelf-tls-")
    cert, key = make_certificate(work, "server")
    db, port, log = os.path.join(work, "shelf.sqlite"), free_port(), os.path.join(work, "shelf.log")
    token = create_token(db, "read")
    with open(log, "a") as out:
        proc = subprocess.Popen([SHELF, "serve", "--host", "127.0.0.1", "--port", str(port), "--database", db, "--fixtures", DEMO,
                                 "--tls-cert", cert, "--tls-key", key], stdout=out, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{port}"
    try:
        for _ in range(600):
            code, out, _ = curl("--cacert", cert, "-o", "/dev/null", "-w", "%{http_code}", f"{base}/readyz", timeout=2)
            if code == 0 and out == "200":
                break
            assert proc.poll() is None, f"shelf serve exited ({proc.returncode}):\n{tail(log)}"
            time.sleep(0.1)
        else:
            raise AssertionError(f"{base}/readyz never answered 200:\n{tail(log)}")
        yield {"base": base, "cert": cert, "token": token, "port": port, "log": log, "work": work}
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)


def test_offers_are_served_over_verified_https(https):
    code, out, err = curl("--cacert", https["cert"], "-H", f"Authorization: Bearer {https['token']}",
                          "-w", "\n%{http_code} %{ssl_verify_result} %{scheme}",
                          f"{https['base']}/v1/offers/TEE-RED-M?qty=1&country=US&postalCode=10001")
    assert code == 0, err
    body, status = out.rsplit("\n", 1)
    assert status == "200 0 HTTPS", status
    offer = json.loads(body)
    assert offer["sku"] == "TEE-RED-M" and "freshness" in json.dumps(offer), offer
    assert "Shelf listening on https://127.0.0.1:" in tail(https["log"], 1000)


def test_the_certificate_is_checked_by_the_client(https):
    # A client that trusts another CA refuses the handshake: the server presents the generated certificate, nothing else.
    other, _ = make_certificate(https["work"], "stranger")
    code, _, err = curl("--cacert", other, f"{https['base']}/livez")
    assert code == 60, (code, err)  # CURLE_PEER_FAILED_VERIFICATION


def test_plain_http_and_old_tls_are_refused(https):
    code, out, _ = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://127.0.0.1:{https['port']}/livez", timeout=5)
    assert code != 0 and out in ("", "000"), (code, out)
    code, _, err = curl("--cacert", https["cert"], "--tlsv1.1", "--tls-max", "1.1", f"{https['base']}/livez", timeout=5)
    assert code != 0, "TLS 1.1 must be refused"
    code, out, err = curl("--cacert", https["cert"], "--tlsv1.3", "-o", "/dev/null", "-w", "%{http_code}", f"{https['base']}/livez")
    assert (code, out) == (0, "200"), (code, out, err)


def test_parse_errors_behind_tls_are_problem_documents(https):
    code, out, err = curl("--cacert", https["cert"], "-i", "-H", "X-Big: " + "a" * 20000, f"{https['base']}/livez")
    assert code == 0, err
    head, _, body = out.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 431"), head
    assert "application/problem+json" in head and "x-request-id:" in head.lower(), head
    assert json.loads(body)["type"].endswith("/headers-too-large"), body


def refused(args, work):
    """Runs `shelf serve` expecting it to stop at once; its exit code and output."""
    db = os.path.join(work, "refused.sqlite")
    done = subprocess.run([SHELF, "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--database", db, *args],
                          capture_output=True, timeout=60)
    return done.returncode, (done.stdout + done.stderr).decode(errors="replace")


def test_unusable_tls_files_stop_the_server_with_a_clear_sentence(tmp_path):
    work = str(tmp_path)
    cert, key = make_certificate(work, "good")
    _, other_key = make_certificate(work, "other")
    garbage = os.path.join(work, "garbage.pem")
    with open(garbage, "w") as f:
        f.write("not a certificate\n")
    missing = os.path.join(work, "missing.pem")

    code, out = refused(["--tls-cert", cert], work)
    assert code == 64 and "--tls-cert and --tls-key go together" in out, (code, out)
    code, out = refused(["--tls-cert", missing, "--tls-key", key], work)
    assert code == 64 and missing in out and "--tls-cert" in out and "no readable file" in out, (code, out)
    code, out = refused(["--tls-cert", garbage, "--tls-key", key], work)
    assert code == 64 and garbage in out and "--tls-cert" in out, (code, out)
    code, out = refused(["--tls-cert", cert, "--tls-key", garbage], work)
    assert code == 64 and garbage in out and "--tls-key" in out, (code, out)
    code, out = refused(["--tls-cert", cert, "--tls-key", other_key], work)
    assert code == 64 and "does not fit" in out and other_key in out, (code, out)
    assert not os.path.exists(os.path.join(work, "refused.sqlite")), "a refused start must not create the database"
