# Two commands for a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-ray.txt pyproject.toml | cksum | cut -d' ' -f1)
WORKSPACE ?= workspace
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run test lint types sample bench browser clean-workspace

# requirements.txt is the lock; the editable install adds the `vitrine` command (.venv/bin/vitrine) without
# re-resolving anything. maps-warmup: numba compiles UMAP's kernels into its disk cache now, not during a
# merchandiser's first map.
$(STAMP): requirements.txt requirements-ray.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q -r requirements-ray.txt  # the vitrine[ray] extra: tests/integration/test_ray_engine.py
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(VENV)/bin/vitrine maps-warmup
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

$(WORKSPACE)/db: | $(STAMP)
	$(VENV)/bin/vitrine sample --workspace $(WORKSPACE)

sample: $(WORKSPACE)/db

run: install $(WORKSPACE)/db
	$(VENV)/bin/vitrine app --workspace $(WORKSPACE)

# The browser tests need Debian's chromium; install it when we are root, else they skip with a message.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } \
		|| echo "chromium is not installed and we are not root: browser tests will be skipped"

lint: install
	$(VENV)/bin/ruff check .

types: install
	$(VENV)/bin/mypy

# Lint and types first (seconds), then every test tier; `pytest -m "not slow and not browser"` is the quick loop.
test: install browser lint types
	$(PY) -m pytest

bench: install
	$(PY) bench/run_all.py

clean-workspace:
	rm -rf $(WORKSPACE)
