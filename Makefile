# The two set-up commands a new user needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
NHSUK_FRONTEND_VERSION := 10.6.1
SWAGGER_UI_VERSION := 5.35.0
AXE_CORE_VERSION := 4.14.1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq

.PHONY: demo test lint bench system-deps frontend clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# From the npm registry, never committed: the NHS.UK design system CSS/JS, Swagger UI
# (the API docs, served locally under the CSP) and axe-core (accessibility checks in the
# browser tests). Without npm the pages still work, unstyled.
FRONTEND_PACKAGES := nhsuk-frontend@$(NHSUK_FRONTEND_VERSION) \
	swagger-ui-dist@$(SWAGGER_UI_VERSION) axe-core@$(AXE_CORE_VERSION)
FRONTEND_STAMP := .frontend/.installed-$(NHSUK_FRONTEND_VERSION)-$(SWAGGER_UI_VERSION)-$(AXE_CORE_VERSION)

frontend:
	@if [ ! -f $(FRONTEND_STAMP) ]; then \
		if command -v npm >/dev/null; then \
			npm install --silent --no-audit --no-fund --prefix .frontend $(FRONTEND_PACKAGES) \
			&& touch $(FRONTEND_STAMP); \
		else echo "npm not found: pages will be served without the NHS.UK stylesheet"; fi; fi

# PostgreSQL server (the suite starts its own throwaway cluster) and headless Chromium.
system-deps:
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		$(APT) postgresql; fi
	@if ! command -v chromium >/dev/null || ! dpkg -s fonts-noto-core >/dev/null 2>&1; then \
		$(APT) chromium fonts-noto-core; fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: $(VENV)/.installed system-deps frontend lint
	$(BIN)/pytest -n 2

demo: $(VENV)/.installed frontend
	$(BIN)/cohort demo

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .frontend var
