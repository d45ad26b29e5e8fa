# pulseline: `make run` runs the whole pipeline locally, `make test` runs every test.
# Each installs what it needs and no more: a virtualenv in .venv with the project, and (as root,
# via apt) the system packages deploy/local/install-system-deps.sh names: for `run`
# VictoriaMetrics, Java and Maven; for `test` also Prometheus, the node exporter, Alertmanager
# and Chromium. Apache Kafka, the local broker and the tests', runs from jars Maven resolves
# once into ~/.cache/pulseline.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run stop status test unit integration faults bench lint run-deps test-deps influxdb2 clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# What `make run` needs: VictoriaMetrics, Java, Maven (apt), then Kafka's jars (Maven).
run-deps: $(STAMP)
	@deploy/local/install-system-deps.sh run
	@$(BIN)/python -m streams.stack.kafka_install

# What `make test` needs besides: Prometheus, the node exporter, Alertmanager, Chromium.
test-deps: $(STAMP)
	@deploy/local/install-system-deps.sh test
	@$(BIN)/python -m streams.stack.kafka_install

# InfluxDB 2 for the integration tests: built once per machine (see the script), then reused.
influxdb2:
	@deploy/local/install-influxdb2.sh >/dev/null

run: run-deps
	$(BIN)/pulseline --config deploy/local/pulseline.yaml stack run --dir .stack

# A stack left running (its terminal gone, its process killed): what runs, and stop it.
status: $(STAMP)
	@$(BIN)/pulseline stack status --dir .stack

stop: $(STAMP)
	$(BIN)/pulseline stack stop --dir .stack

# Three test processes, a test file each at a time (pytest-xdist): most integration tests wait
# on the servers they start, so three at once fit two cores and the suite takes half as long.
TEST_PROCESSES ?= 3

test: test-deps influxdb2
	$(BIN)/pytest -q -n $(TEST_PROCESSES) --dist loadfile --durations=15

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: test-deps influxdb2
	$(BIN)/pytest -q -n $(TEST_PROCESSES) --dist loadfile tests/integration

# The fault suite in full (tests/faults/README.md): every scenario with its larger load and
# longer outages, one after the other; each prints its figures. make test runs its short form.
faults: test-deps
	$(BIN)/pytest -q tests/faults --faults=full

bench: test-deps
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/downsample.py
	$(BIN)/python bench/alerts.py
	$(BIN)/python bench/notify.py
	$(BIN)/python bench/notify.py --only pulseline --split

lint: $(STAMP)
	$(BIN)/ruff check streams agents tests bench
	$(BIN)/ruff format --check streams agents tests bench
	$(BIN)/mypy

clean:
	rm -rf .stack .pulseline .pytest_cache .mypy_cache .ruff_cache
