# Realtime user-behaviour analytics workshop. `make help` lists every target.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BIN ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SERVICES := $(PY) -m services

# Bounded runs (every stage, see README): make stage1 MAX_EVENTS=2000 RATE=500 DURATION=60
BOUNDED := $(if $(MAX_EVENTS),--max-events $(MAX_EVENTS)) $(if $(RATE),--rate $(RATE)) $(if $(DURATION),--duration $(DURATION))

help: ## List every target with one line each
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

$(PY): pyproject.toml
	@echo "==> creating the virtual environment in $(VENV) and installing the project"
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@touch $(PY)

setup: $(PY) ## Create .venv, install the Python project and the dashboard's Node packages (all the stages and the demo need)
	@$(PY) -m tools.setup_extras

setup-test: $(PY) ## setup plus what only the tests need: their Node packages, Chromium (browser test), docker-compose
	@$(PY) -m tools.setup_extras --test

.PHONY: setup-test

doctor: $(PY) ## Check this machine (Python, JDKs, ports, memory, disk, vm.max_map_count, registries)
	@$(PY) -m tools.doctor

check-room: setup ## Teacher's room check (~3 min): engines, bounded stage 2 and 3 runs, dashboard; one line each (WORKSHOP_LANG=ko)
	@$(PY) -m tools.check_room $(if $(STOP_ENGINES),--stop-engines)

.PHONY: check-room

data: data/tracks.csv ## Generate the deterministic synthetic data set into data/ (skipped when up to date)

data/tracks.csv: tools/datagen.py common/click_model.py common/customers.py common/profiles.py | $(PY)
	@echo "==> generating the synthetic data set (seeded, deterministic)"
	@$(PY) -m tools.datagen

fetch: $(PY) ## Download the engines once (Maven Central) into .runtime/
	@$(SERVICES) fetch

services-up: $(PY) ## Fetch (once) and start Kafka, Elasticsearch and Redis on 127.0.0.1
	@$(SERVICES) up

services-down: $(PY) ## Stop the engines this project started
	@$(SERVICES) down

services-status: $(PY) ## One line per engine: URL and state
	@$(SERVICES) status

status: $(PY) ## Every hop of the pipeline in one table: lags, rates, dead letters, offers, engines up/down
	@$(PY) -m stage4.pipeline --once

.PHONY: status

# Real clusters on this machine (README.md, "Running on a cluster"): a Spark standalone
# cluster (services/spark_cluster.py), three Kafka brokers and three Elasticsearch nodes
# (services/multinode.py). CLUSTER picks some: make cluster-up CLUSTER="kafka elasticsearch"
CLUSTER ?= spark kafka elasticsearch
cluster-up: $(PY) ## Start the local clusters: Spark (master UI :8088, two 1-core workers), 3 Kafka brokers, 3 ES nodes
	@$(SERVICES) cluster-up $(CLUSTER)

cluster-down: $(PY) ## Stop the clusters cluster-up started
	@$(SERVICES) cluster-down $(CLUSTER)

cluster-status: $(PY) ## Each cluster node, the Spark master's status and the Kafka and ES clusters' health
	@$(SERVICES) cluster-status

logs: $(PY) ## Show the last lines of every engine's log
	@$(SERVICES) logs

es-templates: services-up ## Index templates and indices from common/schema.py, and Logstash's zip tables (before Logstash or Kibana)
	@$(PY) -m tools.es_templates

reset: $(PY) ## Stop the engines and wipe their data, checkpoints and offsets (downloads are kept)
	@$(SERVICES) reset

stage1: setup data services-up ## Stage 1: live generator -> log file -> shipper -> Elasticsearch
	@$(PY) -m stage1.run_stage1 $(BOUNDED)

stage1-history: setup data services-up ## Stage 1: load all of data/tracks.csv with its original timestamps
	@$(PY) -m stage1.shipper --history

stage2-import: setup data services-up ## Stage 2: load customers into Redis hashes
	@$(PY) -m stage2.import_customers

stage2: setup data services-up ## Stage 2: generator -> shipper -> Kafka -> Spark streaming (enrich, interest list) -> ES/Redis
	@$(PY) -m stage2.run_stage2 $(BOUNDED)

stage3-train: setup data services-up ## Stage 3: features, train, gate, promote, score (EVERY=10m keeps retraining)
	@$(PY) -m stage3.train $(if $(EVERY),--every $(EVERY))

stage3-sms: setup services-up ## Stage 3: the SMS sender (reads the offers stream)
	@$(PY) -m stage3.sms_sender $(BOUNDED)

stage3: setup data services-up ## Stage 3: stage 2 + training, scoring, live targeting and the SMS sender (DRIFT=1: the drift scenario)
	@$(PY) -m stage3.run_stage3 $(BOUNDED) $(if $(DRIFT),--drift) $(if $(EVERY),--every $(EVERY))

stage4: setup services-up ## Stage 4: the live dashboard on http://127.0.0.1:3000
	@$(PY) -m stage4.run_stage4

demo: setup data services-up ## Everything live: stage 3 + dashboard (DEMO_DURATION=60: 60 s of plays, then finish and exit)
	@$(PY) -m tools.demo $(if $(DEMO_DURATION),--duration $(DEMO_DURATION))

# make memory: a bounded demo with one retraining round, every process's peak resident memory sampled (tools/memwatch.py)
MEMORY_JSON ?= .runtime/memory.json
memory: setup data services-up ## Peak memory of make demo, per process and in total (docs/memory.md); JSON in .runtime/memory.json
	@$(PY) -m tools.memwatch --json $(MEMORY_JSON) -- $(PY) -m tools.demo --duration $(or $(DEMO_DURATION),150) --every $(or $(EVERY),60s)

bench: setup data services-up ## Throughput, latency p50/p95/p99 (stage 2, stage 3 offers), naive ratio, history load, peak memory; table, JSON, PNG
	@$(PY) bench/run_bench.py

test: setup-test data ## Start the engines, run every test (unit, integration, notebooks, Node, browser), stop the engines
	@$(PY) -m tools.testrun

test-unit: $(PY) ## Only the fast unit tests (no engines)
	@$(PY) -m pytest -q tests/unit

# Exercises (exercises/README.md): your answers in exercises/stageN/, checked against the real engines.
# ANSWERS=exercises/solutions checks the worked solutions; EX=2.3 checks one exercise.
ANSWERS ?= exercises
CHECK = $(PY) -m exercises.check $(subst check-,,$@) --answers $(ANSWERS) $(if $(EX),--only $(EX))

check-stage1: setup data services-up ## Check your stage-1 exercise answers (exercises/stage1/)
	@$(CHECK)
check-stage2: setup data services-up ## Check your stage-2 exercise answers (exercises/stage2/)
	@$(CHECK)
check-stage3: setup data services-up ## Check your stage-3 exercise answers (exercises/stage3/)
	@$(CHECK)
check-stage4: setup data services-up ## Check your stage-4 exercise answers (exercises/stage4/)
	@$(CHECK)

.PHONY: check-stage1 check-stage2 check-stage3 check-stage4

# Offline bundle (tools/bundle.py, docs/instructor.md): BUNDLE names the archive for both targets
BUNDLE ?= dist/workshop-bundle.tar.gz

bundle: fetch ## Pack what a fresh machine downloads (wheels, engines, npm packages) into dist/workshop-bundle.tar.gz
	@$(PY) -m tools.bundle build --out $(BUNDLE)

offline-setup: ## Set up with no network from a bundle: make offline-setup BUNDLE=path/to/workshop-bundle.tar.gz
	@$(PYTHON_BIN) tools/bundle.py setup $(BUNDLE) --venv $(VENV)

.PHONY: bundle offline-setup

.PHONY: help setup doctor data fetch services-up services-down services-status cluster-up cluster-down cluster-status logs es-templates reset stage1 stage1-history stage2-import stage2 stage3-train stage3-sms stage3 stage4 demo memory bench test test-unit
