# The two set-up commands a new user needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
NHSUK_FRONTEND_VERSION := 10.6.1
SWAGGER_UI_VERSION := 5.35.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench system-deps frontend clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# NHS.UK design system CSS/JS and Swagger UI (the API docs) from the npm registry, never
# committed. Without npm the pages still work, unstyled.
frontend:
	@if [ ! -f .frontend/node_modules/nhsuk-frontend/package.json ]; then \
		if command -v npm >/dev/null; then \
			npm install --silent --no-audit --no-fund --prefix .frontend \
				nhsuk-frontend@$(NHSUK_FRONTEND_VERSION); \
		else echo "npm not found: pages will be served without the NHS.UK stylesheet"; fi; fi
	@if [ ! -f .frontend/node_modules/swagger-ui-dist/package.json ] && command -v npm >/dev/null; then \
		npm install --silent --no-audit --no-fund --prefix .frontend \
			swagger-ui-dist@$(SWAGGER_UI_VERSION); fi

# PostgreSQL server (the suite starts its own throwaway cluster) and headless Chromium.
system-deps:
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql; fi
	@if ! command -v chromium >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-noto-core; fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: $(VENV)/.installed system-deps frontend lint
	$(BIN)/pytest

demo: $(VENV)/.installed frontend
	$(BIN)/cohort demo

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .frontend var
