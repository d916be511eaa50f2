# The two commands the README gives: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COLLECTION_LINK := .build/collections/ansible_collections/remote_desktop/licensing
export NO_PROXY := 127.0.0.1,localhost
export no_proxy := 127.0.0.1,localhost
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: setup browser demo test unit contract contract-record integration molecule static matrix bench chaos clean agent-wire

$(STAMP): requirements-dev.txt simulator/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -e simulator
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn ../../../.. $@

setup: $(STAMP) $(COLLECTION_LINK)

demo: setup
	$(BIN)/python demo/run_demo.py

# The HTML report test renders in Debian's chromium; installed here when apt and root allow it.
browser:
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  { apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }; }; } || \
	  echo "chromium is not installed; the HTML rendering test will be skipped"

test: setup browser
	$(BIN)/python -m pytest tests
	$(BIN)/python tests/matrix/run_matrix.py
	$(BIN)/python tests/chaos/run_chaos.py --hosts 200

# Random faults of every kind, concurrent runs and batches with thresholds over a simulated fleet (docs/chaos.md).
# 200 hosts is the size `make test` runs; `make chaos CHAOS_HOSTS=1000` is the documented large run.
CHAOS_HOSTS ?= 200
CHAOS_SEED ?= 15
chaos: setup
	$(BIN)/python tests/chaos/run_chaos.py --hosts $(CHAOS_HOSTS) --seed $(CHAOS_SEED)

# After any change to plugins/plugin_utils/_agent.ps1: the agent as sent, deflated once with zopfli (docs/architecture.md).
agent-wire: setup
	$(BIN)/python -m tests.helpers.agent_wire

unit: setup
	$(BIN)/python -m pytest tests/unit

contract: setup
	$(BIN)/python -m pytest tests/contract

# The lab kit: also save each real answer under tests/contract/recordings/<build>/ (docs/lab-validation.md).
contract-record: setup
	RDS_CONTRACT_RECORD=1 $(BIN)/python -m pytest tests/contract -k real_host

integration: setup
	$(BIN)/python -m pytest tests/integration

molecule: setup
	$(BIN)/python -m pytest tests/molecule

static: setup
	$(BIN)/python -m pytest tests/static

# Every supported ansible-core x connection, end to end against rds-sim (also part of `make test`).
matrix: setup
	$(BIN)/python tests/matrix/run_matrix.py

# The collection against the floor (raw, pywinrm) and ansible.windows on simulated fleets; one table,
# written to .build/bench/latest.{json,md}. Default: 10 hosts, latency 0 and 300 ms, 2 interleaved
# runs (a few minutes on 2 cores). Larger: make bench BENCH_ARGS="--sizes 10,100,1000".
bench: setup
	$(BIN)/python -m tests.bench.run_bench $(BENCH_ARGS)

clean:
	rm -rf .build .pytest_cache
