# Shelf — two commands for a newcomer: `make run` and `make test`.
SHELL := /bin/bash
APT_PACKAGES := libsqlite3-dev libcurl4-openssl-dev pkg-config tzdata
## Only the tests need a browser (the console suite drives headless Chromium), curl + openssl (the HTTPS tests) and
## PostgreSQL (the ledger conformance suite starts a throwaway cluster with its initdb and pg_ctl).
TEST_APT_PACKAGES := chromium chromium-driver curl openssl postgresql
PY_PACKAGES := jsonschema schemathesis==4.32.5 pytest mcp==1.30.0 selenium==4.40.0
DATA_DIR ?= ./data
DB ?= $(DATA_DIR)/shelf.sqlite
PORT ?= 8080
SWIFT_BUILD_FLAGS ?=
BIN := .build/debug

.PHONY: run test deps test-deps apt-install py-deps build build-release bench clean sim

## Install missing system packages (apt-get only when something is missing).
deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

## The browser the console tests drive, and PostgreSQL for the ledger conformance suite.
test-deps:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_APT_PACKAGES)"

apt-install:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

## Python tools used by the contract, protocol and browser tests (schemathesis, jsonschema, mcp, selenium).
py-deps:
	@python3 -c "import jsonschema, schemathesis, pytest, importlib.metadata as m; assert schemathesis.__version__ == '4.32.5' and m.version('mcp') == '1.30.0' and m.version('selenium') == '4.40.0'" 2>/dev/null || python3 -m pip install -q $(PY_PACKAGES)

build: deps
	swift build $(SWIFT_BUILD_FLAGS)

build-release: deps
	swift build -c release $(SWIFT_BUILD_FLAGS)

## Build, then start Shelf on 127.0.0.1:$(PORT) with the embedded SQLite default and the demo fixtures.
run: build
	@mkdir -p $(DATA_DIR)
	@token=$$($(BIN)/shelf token create --database $(DB) --seller demo --scopes read --ttl 7d --label "make run"); \
	admin=$$($(BIN)/shelf token create --database $(DB) --seller demo --scopes read,ingest,admin --ttl 7d --label "make run admin"); \
	echo ""; \
	echo "  Shelf:        http://127.0.0.1:$(PORT)"; \
	echo "  Read token:   $$token"; \
	echo "  Admin token:  $$admin"; \
	echo "  Try:          curl -H 'Authorization: Bearer $$token' 'http://127.0.0.1:$(PORT)/v1/offers/TEE-RED-M?qty=2&country=US&postalCode=10001'"; \
	echo ""
	exec $(BIN)/shelf serve --host 127.0.0.1 --port $(PORT) --database $(DB) --fixtures fixtures/demo

## Run every test: Swift unit and end-to-end suites, the Python contract/protocol checks against a live server, then the
## seller console in headless Chromium.
test: deps test-deps py-deps
	swift build --build-tests $(SWIFT_BUILD_FLAGS)
	@# The suites' temporary databases and directories go to one folder, removed afterwards (traversable: the PostgreSQL
	@# test cluster runs as the postgres user).
	@tmp=$$(mktemp -d /tmp/shelf-swift-test.XXXXXX) && chmod 755 $$tmp; \
	TMPDIR=$$tmp swift test --skip-build $(SWIFT_BUILD_FLAGS); status=$$?; rm -rf $$tmp; exit $$status
	bash scripts/contract-tests.sh
	python3 -m pytest -q -p no:cacheprovider scripts/reliability
	python3 -m pytest -q -p no:cacheprovider scripts/console

bench: deps
	bash Benchmarks/run-all.sh

clean:
	rm -rf .build $(DATA_DIR)
