# The two commands a newcomer needs: `make demo` and `make test`. Both set everything up.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_ENV := DEBUG=1
HOST ?= 127.0.0.1
PORT ?= 8000
# Test processes (pytest-xdist); the CI machine has 2 cores.
TEST_WORKERS ?= 2

.PHONY: install test lint schema schema-check demo serve bench clean

$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e . 2>/dev/null || $(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

# The WatermelonDB end-to-end test drives the real @nozbe/watermelondb client in Node; its
# dependencies are pinned by e2e/package-lock.json. Without npm the test skips with a reason.
E2E_STAMP := e2e/node_modules/.installed-stamp
$(E2E_STAMP): e2e/package.json e2e/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix e2e --no-audit --no-fund --loglevel=error && touch $(E2E_STAMP); \
	else echo "npm not found: the WatermelonDB end-to-end test will be skipped"; fi

install: $(STAMP) $(E2E_STAMP)

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy canvass turf api config

schema: install
	# Always against SQLite: Django derives integer bounds in the schema from the backend.
	DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py spectacular --file openapi.yaml --validate --fail-on-warn

demo: install
	$(DEMO_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo
	@echo "Serving on http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/, admin: /admin/)"
	$(DEMO_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

bench: install
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python bench/turf_cut.py
	$(BIN)/python bench/import_voters.py
	$(BIN)/python bench/sync_push.py

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* var
