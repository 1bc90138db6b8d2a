# moviola: `make demo` and `make test` work on a fresh machine (they set up .venv/ first).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup samples demo test bench lint format clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

samples: samples/vtest.avi samples/Megamind.avi

samples/vtest.avi samples/Megamind.avi:
	bash scripts/get-samples.sh

demo: setup samples
	bash scripts/demo.sh

test: setup samples
	$(PY) -m pytest -q

bench: setup samples
	$(PY) bench/passthrough.py

lint: setup
	$(VENV)/bin/ruff check src tests bench

format: setup
	$(VENV)/bin/ruff format src tests bench

clean:
	rm -rf $(VENV) demo-out bench/out .pytest_cache
