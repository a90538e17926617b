# phiguard: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
SHARED ?= ../shared
DEMO   := demo-out

.PHONY: install browser demo test test-spark lint typecheck eval bench bench-detect bench-pipeline bench-serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.bin/dynalite: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP) node_modules/.bin/dynalite browser

# The review page (phiguard serve) is tested in a real headless browser: Debian's chromium and
# its driver, installed here when missing (CI runs as root on a fresh machine). Outside CI a
# machine that cannot install them only warns, and the browser tests skip with the reason.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium and chromium-driver (apt-get)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium chromium-driver >/dev/null) \
	  || { echo "apt-get could not install chromium"; [ -z "$$CI" ] || exit 1; }; \
	else \
	  echo "chromium is missing and cannot be installed here (not root): browser tests skip"; \
	  [ -z "$$CI" ] || exit 1; \
	fi

# The main job on the embedded default: mask, then de-identify into a SQLite vault, then
# re-identify and check the bytes are identical.
demo: $(STAMP)
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	@echo "== phiguard mask (sample ED note) =="
	PHIGUARD_HOME=$(DEMO)/home $(VENV)/bin/phiguard mask examples/ed_summary.txt | head -25
	@echo "== phiguard deid -> $(DEMO)/ed_summary.deid.txt (vault: $(DEMO)/home/vault.db) =="
	PHIGUARD_HOME=$(DEMO)/home $(VENV)/bin/phiguard deid examples/ed_summary.txt --out $(DEMO)/ed_summary.deid.txt
	@head -12 $(DEMO)/ed_summary.deid.txt
	@echo "== phiguard reid =="
	PHIGUARD_HOME=$(DEMO)/home $(VENV)/bin/phiguard reid $(DEMO)/ed_summary.deid.txt --out $(DEMO)/ed_summary.reid.txt
	cmp examples/ed_summary.txt $(DEMO)/ed_summary.reid.txt && echo "round trip: byte-identical"

test: install
	$(VENV)/bin/ruff check src cli tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q -p no:cacheprovider --ignore=tests/test_spark.py

# Spark needs Java 17+ and pyspark (a 456 MB source package): kept out of `make test`'s install.
test-spark: install
	$(PIP) install --quiet -e '.[spark]'
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/test_spark.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src cli tests benchmarks
	$(VENV)/bin/ruff format --check src cli tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

eval: $(STAMP)
	$(VENV)/bin/phiguard eval $(SHARED)/eval/physionet-dev.jsonl $(SHARED)/samples/ed_summary.gold.json --targets

# Both benchmarks (about 30 min): detector speed and accuracy vs Presidio, then the pipeline.
bench: bench-detect bench-pipeline

bench-detect: $(STAMP)
	$(PY) benchmarks/bench_detect.py --gold $(SHARED)/eval/physionet-dev.jsonl

# mask/deid throughput, workers 1 and 2, sqlite and dynamodb, vs Presidio (20-30 min).
bench-pipeline: install
	$(PY) benchmarks/bench_pipeline.py $(BENCH_ARGS)

# phiguard serve vs phiguard mask --jsonl --workers 2 on the same notes (a few minutes).
bench-serve: install
	$(PY) benchmarks/bench_serve.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(DEMO) .pytest_cache .mypy_cache .ruff_cache
