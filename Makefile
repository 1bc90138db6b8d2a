# moviola: `make demo` and `make test` work on a fresh machine (they set up .venv/ first).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup samples demo test bench bench-effects lint format clean studio

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

samples: samples/vtest.avi samples/Megamind.avi samples/tree.avi samples/speech/two-speakers.rttm

samples/vtest.avi samples/Megamind.avi samples/tree.avi:
	bash scripts/get-samples.sh

samples/speech/two-speakers.rttm:
	bash scripts/get-speech-samples.sh

demo: setup samples
	bash scripts/demo.sh

# Lint first: format, complexity and the type checker must be clean before the tests run.
test: setup samples lint
	$(PY) -m pytest -q

bench: setup samples
	$(PY) bench/passthrough.py --repeat 2 --frames 300 --write docs/benchmarks.md

# The effects' benchmarks take minutes each on a laptop CPU; see docs/benchmarks.md.
bench-effects: setup samples
	$(PY) bench/matte.py --frames 150 --frames-1080 60 --repeat 2 --write docs/matte.md
	$(PY) bench/interpolate.py --frames 31 --pictures docs/interpolate --write docs/interpolate.md
	$(PY) bench/upscale.py --frames 2 --speed-frames 6 --rrdb-frames 1 --write docs/upscale.md
	$(PY) bench/shots.py --write docs/shots.md
	$(PY) bench/describe.py --write docs/describe.md
	$(PY) bench/colorize.py --frames 40 --recolor-frames 20 --write docs/recolor.md
	$(PY) bench/depth.py --width 480 --write docs/depth.md
	$(PY) bench/parallax.py --frames 8 --write docs/depth.md
	$(PY) bench/stylize.py --frames 30 --write docs/stylize.md
	$(PY) bench/latentwalk.py --frames 96 --write docs/latentwalk.md
	$(PY) bench/faces.py --write docs/faces.md
	$(PY) bench/engines.py --seconds 8 --chunk-seconds 2 --write docs/engines.md
	$(PY) bench/collect.py

studio: setup samples
	$(VENV)/bin/moviola studio --media samples

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/basedpyright

format: setup
	$(VENV)/bin/ruff format src tests bench

clean:
	rm -rf $(VENV) demo-out bench/out .pytest_cache
