"""Scope enforcement on every documented operation, derived from the OpenAPI document itself: each operation that names a
bearer scope is called with every token that lacks it (read-only, ingest-only, admin, platform operator) and must answer a
403 problem naming Authorization, with nothing recorded. A new route documented without its scope, or a handler that forgets
to check it, fails here."""
import os

import pytest
import yaml

from shelfproc import ROOT, Stack, assert_problem, create_token

SPEC = os.path.join(ROOT, "openapi", "shelf.yaml")
# What each token carries: admin implies read and ingest; platform carries only platform.
TOKENS = {"read": {"read"}, "ingest": {"ingest"}, "admin": {"read", "ingest", "admin"}, "platform": {"platform"}}


def operations():
    with open(SPEC) as f:
        spec = yaml.safe_load(f)
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            for requirement in op.get("security", spec.get("security", [])):
                scopes = requirement.get("bearerAuth")
                if scopes:
                    yield path, method.upper(), op["operationId"], set(scopes)


OPERATIONS = list(operations())


@pytest.fixture(scope="module")
def stack():
    with Stack(sim=False, push=False, keep_skus={"TEE-RED-M"}, prefix="shelf-scopes-") as s:
        s.tokens = {kind: create_token(s.db, kind) for kind in ("read", "ingest")}
        s.tokens["admin"] = s.admin
        import subprocess
        from shelfproc import SHELF
        s.tokens["platform"] = subprocess.check_output(
            [SHELF, "token", "create", "--database", s.db, "--platform", "--label", "scopes"], timeout=60).decode().strip()
        yield s


def test_the_document_names_a_scope_on_every_bearer_operation():
    ids = {op for _, _, op, _ in OPERATIONS}
    # Sanity: the walk found the operations of every scope, so the test below is not vacuous.
    assert {"getOffer", "postEvent", "upsertSku", "createSeller"} <= ids, sorted(ids)
    assert len(OPERATIONS) >= 50


@pytest.mark.parametrize("path,method,operation,scopes", OPERATIONS, ids=[op for _, _, op, _ in OPERATIONS])
def test_tokens_without_the_scope_are_refused(stack, path, method, operation, scopes):
    concrete = path
    for name in ("sku", "id", "connectionId", "channel"):
        concrete = concrete.replace("{" + name + "}", "TEE-RED-M" if name == "sku" else "x")
    before = stack.fingerprint()
    lacking = [kind for kind, carried in TOKENS.items() if not carried & scopes]
    assert lacking, (operation, scopes)
    for kind in lacking:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        headers = {"Accept": "application/json, text/event-stream", "Idempotency-Key": f"scope-{operation}-{kind}"}
        reply = stack.shelf.call(method, concrete, stack.tokens[kind], body, headers=headers)
        assert reply.status == 403, (operation, kind, reply)
        assert_problem(reply, 403, "Authorization")
    assert stack.fingerprint() == before, operation
