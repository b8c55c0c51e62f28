# The two set-up commands a new user needs: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
NHSUK_FRONTEND_VERSION := 10.6.1
SWAGGER_UI_VERSION := 5.35.0
AXE_CORE_VERSION := 4.14.1
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq

.PHONY: demo test lint bench system-deps frontend clean translations catalogs

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

test: $(VENV)/.installed system-deps frontend catalogs lint
	$(BIN)/pytest -n 2

demo: $(VENV)/.installed frontend catalogs
	$(BIN)/cohort demo

bench: $(VENV)/.installed
	$(BIN)/python -m bench

# Babel catalogs (docs/translations.md). `make translations` extracts every marked string
# and instrument text into the committed template, brings each language's .po up to date
# (creating missing ones) and compiles; `make catalogs` only compiles the committed .po
# files into .mo (never committed). The template is rewritten only when a message changed,
# so its creation date alone never makes a diff.
POT := translations/messages.pot
EXTRACT := $(BIN)/pybabel -q extract -F babel.cfg --add-location=file --sort-by-file \
	-c TRANSLATORS: --project=cohort \
	--header-comment="\# Messages of the birth cohort platform: UI, validation and instrument text."
LANGUAGE_CODES = $$($(BIN)/python -c 'from cohort.i18n import DEFAULT, LANGUAGES; print(*(c for c in LANGUAGES if c != DEFAULT))')

translations: $(VENV)/.installed
	$(EXTRACT) -o $(POT).new .
	@if [ -f $(POT) ] && diff -q -I '^"POT-Creation-Date: ' $(POT) $(POT).new >/dev/null; \
		then rm $(POT).new; else mv $(POT).new $(POT); fi
	@for code in $(LANGUAGE_CODES); do \
		$(BIN)/pybabel -q update -i $(POT) -d translations -l $$code --init-missing \
			--ignore-obsolete --ignore-pot-creation-date || exit 1; done
	$(BIN)/pybabel compile -d translations --statistics

catalogs: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d translations

clean:
	rm -rf $(VENV) .frontend var
