# phiguard: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
# The data that is not redistributed (tests/README.md): ../shared beside the repo by default.
SHARED ?= $(or $(PHIGUARD_SHARED),../shared)
LINTED := src cli tests tools benchmarks
TESTS  := tests/unit tests/integration tests/accuracy
DEMO   := demo-out

.PHONY: install browser demo test test-spark lint typecheck eval bench bench-detect bench-pipeline bench-surrogate bench-serve train cv cv-quick proxies clean

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

# Lint, types (src, cli, tools), then every test folder. Tests that need $(SHARED) skip with a
# one-line reason each when it is absent (listed at the end by pytest -ra).
test: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/mypy
	PHIGUARD_SHARED=$(SHARED) $(VENV)/bin/pytest -q -p no:cacheprovider $(TESTS) \
		--ignore=tests/integration/test_spark.py

# Spark needs Java 17+ and pyspark (a 456 MB source package): kept out of `make test`'s install.
test-spark: install
	$(PIP) install --quiet -e '.[spark]'
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/integration/test_spark.py

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(VENV)/bin/mypy

eval: $(STAMP)
	$(VENV)/bin/phiguard eval $(SHARED)/eval/physionet-dev.jsonl $(SHARED)/samples/ed_summary.gold.json --targets

# The trained model (docs/model.md): needs the train extra; writes src/phiguard/data/model/.
TRAIN_STAMP := $(VENV)/.train-installed
$(TRAIN_STAMP): pyproject.toml $(STAMP)
	$(PIP) install --quiet -e '.[dev,train]'
	touch $@

train: $(TRAIN_STAMP)
	nice -n 10 $(PY) tools/train_model.py --dev $(SHARED)/eval/physionet-dev.jsonl

# Patient-disjoint 5-fold cross-validation of the model on the dev notes (15-40 min, 2 cores).
cv: $(TRAIN_STAMP)
	nice -n 10 $(PY) tools/cv_model.py --dev $(SHARED)/eval/physionet-dev.jsonl -k 5 --json build/cv.json

cv-quick: $(TRAIN_STAMP)
	nice -n 10 $(PY) tools/cv_model.py --dev $(SHARED)/eval/physionet-dev.jsonl -k 2 --quick

# The held-out synthetic proxy sets in tests/data/ (clinician queries, general-PII sentences).
proxies: $(TRAIN_STAMP)
	$(PY) tools/make_proxies.py

# The benchmarks (about 45 min): detector speed and accuracy vs Presidio, the pipeline,
# surrogate vs mask on the dev notes, and phiguard serve vs the CLI.
bench: bench-detect bench-pipeline bench-surrogate bench-serve

bench-detect: $(STAMP)
	$(PY) benchmarks/bench_detect.py --gold $(SHARED)/eval/physionet-dev.jsonl

# mask/deid throughput, workers 1 and 2, sqlite and dynamodb, vs Presidio (20-30 min).
bench-pipeline: install
	$(PY) benchmarks/bench_pipeline.py $(BENCH_ARGS)

# surrogate vs mask (and deid) on the dev notes, end to end and transform alone (about 8 min).
bench-surrogate: $(STAMP)
	$(PY) benchmarks/bench_surrogates.py --values 2000 --repeat 5
	$(PY) benchmarks/bench_surrogate_pipeline.py --gold $(SHARED)/eval/physionet-dev.jsonl --rounds 3

# phiguard serve vs phiguard mask --jsonl --workers 2 on the same notes (a few minutes).
bench-serve: install
	$(PY) benchmarks/bench_serve.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(DEMO) .pytest_cache .mypy_cache .ruff_cache
