# Plaudit: `make demo` runs the demo site, `make test` runs the whole test suite.
# Both work on a fresh clone with only Python 3.11+ (and Node.js/npm for the scanner's QR decoder).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
DEMO_ENV := POINT_SYSTEM_API_KEY=$${POINT_SYSTEM_API_KEY:-demo-point-system-key}

.PHONY: demo test install static browser lint migrate bench fuzz clean prod-local screenshots

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed static

# Browser libraries come from the npm registry (package.json) and are copied into static/vendor.
static/vendor/.installed: package.json Makefile
	npm install --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor/jsqr static/vendor/chartjs
	cp node_modules/jsqr/dist/jsQR.js static/vendor/jsqr/jsQR.js
	@# With its source map: the file names it, and collectstatic's manifest refuses a missing reference.
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map static/vendor/chartjs/
	touch $@

static: static/vendor/.installed

# Debian's Chromium for the Playwright page tests (installed when we are root and it is missing;
# otherwise the browser tests skip and say why).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium not installed: browser tests will be skipped"; }

migrate: install
	$(PY) manage.py migrate --verbosity 0
	@# The compiled Czech catalogue is committed; recompile it when gettext is here (msgfmt is optional).
	@if command -v msgfmt >/dev/null 2>&1; then $(PY) manage.py compilemessages --ignore=.venv --verbosity 0; fi

demo: install migrate
	$(DEMO_ENV) $(PY) manage.py seed_demo
	@echo ""
	@echo "  Plaudit demo: http://127.0.0.1:$(PORT)/   (admin: http://127.0.0.1:$(PORT)/admin/, API docs: /api/docs/)"
	@echo "  Logins, password 'demo':  admin (admin)  staff (door + attribution staff)  alice, bob (members)"
	@echo ""
	$(DEMO_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

# The production path on this machine (README, Production): static build, collectstatic, migrate,
# check --deploy, then gunicorn + Celery worker + beat in the foreground (Ctrl-C stops all three).
# Needs SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and REDIS_URL in the environment; see .ci/prod-local.
prod-local: install
	./.ci/prod-local

lint: install
	$(VENV)/bin/ruff check .

test: install browser lint
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Fuzz every API operation from /api/schema/ against a running demo (`make demo` in another shell),
# as the demo admin, and fail on any 5xx.
FUZZ_URL ?= http://127.0.0.1:$(PORT)
fuzz: install
	TOKEN=$$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"username":"admin","password":"demo"}' \
		$(FUZZ_URL)/api/v1/auth/token | $(PY) -c "import sys, json; print(json.load(sys.stdin)['token'])") && \
	$(VENV)/bin/schemathesis run $(FUZZ_URL)/api/schema/ -H "Authorization: Token $$TOKEN" \
		--checks not_a_server_error --max-examples 30 --workers 2 --exclude-method DELETE

# PNGs of every page at desktop (1366x900) and phone (390x844) size into screenshots/ (git-ignored),
# for review: a throwaway SQLite database with the demo data, a live server, headless Chromium.
screenshots: install browser
	$(PY) -m pytest tests/screenshots.py -q -p no:cacheprovider -o python_files=screenshots.py

bench: install
	$(PY) bench/ledger.py

clean:
	rm -rf $(VENV) node_modules static/vendor db.sqlite3 staticfiles celerybeat-schedule
