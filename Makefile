# Handoff: the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
PORT   ?= 8000
export DJANGO_SETTINGS_MODULE := handoff.settings

.PHONY: help install run run-sso test lint security format check-migrations check-deploy compose-config ci \
	clean lock bench chaos chaos-short scan

help:
	@echo "make run    - set up and start the portal with demo data at http://127.0.0.1:$(PORT)"
	@echo "make run-sso - make run, signing in through a local OpenID provider (Sign in with SSO)"
	@echo "make test   - set up and run the whole test suite (PostgreSQL and Redis on localhost)"
	@echo "make lint   - ruff check and format check"
	@echo "make security - bandit over the portal's code (exceptions carry a # nosec reason)"
	@echo "make bench  - load benchmark: 500 accounts, gunicorn + locust, query counts, memory"
	@echo "make chaos  - chaos run of the Vitally sync (make chaos-short: the ~90 s CI version)"
	@echo "make scan   - Wapiti web scanner, signed in as each demo role; fails on any finding"
	@echo "make lock   - re-resolve requirements/*.lock from pyproject.toml (needs network)"

$(STAMP): requirements/dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.lock
	touch $(STAMP)

# npm's dev tools: the Nu HTML checker (vnu.jar, run with Java) for the HTML-validity test, and
# the local OpenID provider (oidc-provider) of the SSO tests and `make run-sso`. Skipped without
# npm, but then the SSO tests fail (they are never skipped).
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

install: $(STAMP) $(if $(shell command -v npm),$(NODE_STAMP))

# The embedded default: SQLite, kombu's filesystem broker, the local fake Vitally.
# Export DATABASE_URL / CELERY_BROKER_URL / REDIS_URL / VITALLY_* first to use real services.
run: install
	mkdir -p var
	DEBUG=1 $(BIN)/python manage.py migrate --no-input -v 0
	DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  Handoff is starting at http://127.0.0.1:$(PORT)"
	@echo "  Sign in as ie, ta or manager; password: handoff-demo"
	@echo "  Stop with Ctrl-C."
	@echo ""
	DEBUG=1 PORT=$(PORT) PORTAL_BASE_URL="$${PORTAL_BASE_URL:-http://127.0.0.1:$(PORT)}" \
		PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f Procfile.dev

# `make run` plus a local OpenID provider (tests/oidc/provider.mjs, panva's oidc-provider, from
# `npm ci`) on http://127.0.0.1:$(SSO_PORT), with its demo people in groups (tests/oidc/people.json):
# ivy (IE), theo (TA), mona (manager and staff), olga (in no group that gives access).
SSO_PORT ?= 9100
SSO_ENV := OIDC_ISSUER=http://127.0.0.1:$(SSO_PORT) OIDC_CLIENT_ID=handoff \
	OIDC_CLIENT_SECRET=handoff-local-provider-secret OIDC_SCOPES="openid email profile groups" \
	OIDC_GROUP_ROLES='{"handoff-ie": "ie", "handoff-ta": "ta", "handoff-managers": "manager"}' \
	OIDC_STAFF_GROUPS=handoff-admins OIDC_PORT=$(SSO_PORT) \
	OIDC_REDIRECT_URIS=http://127.0.0.1:$(PORT)/sign-in/sso/callback/,http://localhost:$(PORT)/sign-in/sso/callback/ \
	OIDC_POST_LOGOUT_REDIRECT_URIS=http://127.0.0.1:$(PORT)/sign-in/,http://localhost:$(PORT)/sign-in/
run-sso: install
	@test -f node_modules/oidc-provider/package.json || (echo "run-sso needs node and npm (npm ci)"; exit 1)
	mkdir -p var
	DEBUG=1 $(BIN)/python manage.py migrate --no-input -v 0
	DEBUG=1 $(BIN)/python manage.py seed_demo
	{ cat Procfile.dev; echo "sso: node tests/oidc/provider.mjs"; } > var/Procfile.sso
	@echo ""
	@echo "  Handoff is starting at http://127.0.0.1:$(PORT), its OpenID provider at http://127.0.0.1:$(SSO_PORT)"
	@echo "  Sign in with SSO as ivy (IE), theo (TA), mona (manager, admin) or olga (no access),"
	@echo "  any password; or with a password as ie, ta or manager (handoff-demo)."
	@echo "  Stop with Ctrl-C."
	@echo ""
	DEBUG=1 PORT=$(PORT) PORTAL_BASE_URL="$${PORTAL_BASE_URL:-http://127.0.0.1:$(PORT)}" $(SSO_ENV) \
		PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start -f var/Procfile.sso

# Tests talk to real PostgreSQL and Redis (defaults in pyproject.toml: 127.0.0.1, user postgres);
# set DATABASE_URL / REDIS_URL to point elsewhere.
test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy  # the files listed in pyproject.toml: record, registry, services, selectors

# Each remaining exception is justified in place: `# nosec BXXX  # why`.
security: install
	$(BIN)/bandit -q -r handoff deployments logs vitally_sync

check-migrations: install
	DEBUG=1 DATABASE_URL=sqlite:///:memory: $(BIN)/python manage.py makemigrations --check --dry-run

check-deploy: install
	SECRET_KEY=ci-check-deploy-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFG \
	ALLOWED_HOSTS=handoff.example.com DEBUG=0 \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

compose-config:
	SECRET_KEY=compose-config-check docker-compose -f docker-compose.yml config --quiet

# Load benchmark (bench/load.py). locust lives in its own venv (var/bench-venv) so the
# project's locked environment stays as it is; it only speaks HTTP to the portal.
BENCH_VENV := var/bench-venv
$(BENCH_VENV)/bin/locust:
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check "locust>=2.37,<3"

bench: install $(BENCH_VENV)/bin/locust
	$(BIN)/python bench/load.py

# Chaos run of the Vitally sync (chaos/run.py); exits non-zero when a must-be-0 figure is not 0.
chaos: install
	$(BIN)/python chaos/run.py

chaos-short: install
	$(BIN)/python chaos/run.py --short

# Web scanner (.ci/scan.py): Wapiti in its own venv (var/scan-venv), like locust for bench;
# nothing in the project's lock. SCAN_ARGS="--attack-time 120" scans deeper than CI does.
SCAN_VENV := var/scan-venv
$(SCAN_VENV)/bin/wapiti:
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --disable-pip-version-check "wapiti3==3.2.3"

scan: install $(SCAN_VENV)/bin/wapiti
	$(BIN)/python .ci/scan.py $(SCAN_ARGS)

lock:
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml -q --python-version 3.11 --generate-hashes -o requirements/base.lock
	$(BIN)/uv pip compile pyproject.toml -q --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.lock

clean:
	rm -rf var tests/artifacts
