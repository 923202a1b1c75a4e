# datalake-events: the verbs. `make demo` and `make test` set everything up on a fresh clone.
SHELL := /bin/bash
export SAM_CLI_TELEMETRY := 0
.DEFAULT_GOAL := help

VENV        := .venv
BIN         := $(VENV)/bin
PY          := $(BIN)/python
STAMP       := $(VENV)/.installed
# Functions' own requirements.txt are for `sam build`; a function that adds one must list it
# in requirements-dev.txt too (tests/unit/test_function_packages.py checks).
REQUIREMENTS := requirements-dev.txt layers/shared/requirements.txt constraints.txt
FUNCTION_DIRS := $(patsubst %/,%,$(wildcard functions/*/))
FUNCTIONS   := $(notdir $(FUNCTION_DIRS))
empty :=
space := $(empty) $(empty)
# Each function folder is its CodeUri, holding one package named after the function; package
# names differ, so tooling sees every function at once (pytest's pythonpath does the same).
ALL_CODE_PATH := layers/shared:glue:$(subst $(space),:,$(FUNCTION_DIRS))
REGION      ?= us-east-1
# pytest-xdist: the unit and integration tiers on every core, at most 4 (each integration worker
# deploys its own local stacks; DynamoDB Local listens on a free port per worker). PARALLEL= runs
# them in one process.
PARALLEL    ?= --numprocesses=auto --maxprocesses=4
CONFIG_ENV  ?= default

.PHONY: help venv engines demo test lint format typecheck validate test-unit test-integration \
        test-engines test-e2e invoke build glue-bundle load-config deploy deploy-guided destroy lock \
        bench clean static-checks static-lock named-queries clean-workbook cost table-status \
        test-alert mutation dashboards

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): $(REQUIREMENTS)
	@python_313="$$(scripts/find-python313)" || exit 1; \
	if [ ! -x "$(PY)" ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then \
	  echo "creating $(VENV) with $$python_313"; rm -rf $(VENV); "$$python_313" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check pip==26.3
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $(STAMP)

venv: $(STAMP) ## create .venv from Python 3.13 and install the pinned dependencies

demo: $(STAMP) ## run the event graph locally (template.yaml on moto, in-process) and print what happened
	$(PY) -m dev demo

test: lint typecheck validate static-checks test-unit engines test-integration test-engines ## everything CI runs (the engines installed before the integration tier: some of its tests start DynamoDB Local)

lint: $(STAMP) ## ruff lint + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every function package with the shared layer beside it, as Lambda sees it (no function
# imports another: tests/unit/test_function_packages.py).
typecheck: $(STAMP) ## mypy (strict, pydantic plugin) per function, layer and tooling
	MYPYPATH=$(ALL_CODE_PATH) $(BIN)/mypy $(addprefix -p ,$(FUNCTIONS))
	@# The Spark benchmark drives the job with its unit tests' in-memory collaborators.
	MYPYPATH=$(ALL_CODE_PATH):tests/unit:tests/unit/glue_merge $(BIN)/mypy layers/shared/datalake_shared local_runtime dev benchmarks tools scripts
	@# The Glue job runs on Glue 5's Python 3.11, with the contracts it shares with the layer.
	MYPYPATH=glue:layers/shared $(BIN)/mypy --python-version 3.11 glue/cdc_merge layers/shared/datalake_contracts

validate: $(STAMP) ## sam validate --lint (cfn-lint) on template.yaml
	$(BIN)/sam validate --lint --template template.yaml --region $(REGION)

# The checkers live in their own venv: checkov pins boto3, packaging and networkx below the dev
# venv's. Skips are declared in template.yaml's Metadata, each with a reason (see the script).
STATIC_VENV  := .venv-static
STATIC_PY    := $(STATIC_VENV)/bin/python
STATIC_STAMP := $(STATIC_VENV)/.installed

$(STATIC_STAMP): requirements-static.txt constraints-static.txt
	@python_313="$$(scripts/find-python313)" || exit 1; \
	if [ ! -x "$(STATIC_PY)" ] || ! $(STATIC_PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))'; then \
	  echo "creating $(STATIC_VENV) with $$python_313"; rm -rf $(STATIC_VENV); "$$python_313" -m venv $(STATIC_VENV); \
	fi
	$(STATIC_PY) -m pip install --quiet --disable-pip-version-check pip==26.3
	$(STATIC_PY) -m pip install --quiet --disable-pip-version-check -r requirements-static.txt -c constraints-static.txt
	@touch $(STATIC_STAMP)

static-checks: $(STAMP) $(STATIC_STAMP) ## cfn-lint (+ serverless rules) and checkov on template.yaml; fails on an unexplained finding
	$(PY) scripts/static_checks.py --bin $(STATIC_VENV)/bin $(if $(VERBOSE),--verbose)

static-lock: $(STATIC_STAMP) ## re-pin the static-check venv into constraints-static.txt
	@{ sed -n '1,3p' constraints-static.txt; $(STATIC_PY) -m pip freeze --exclude-editable; } > constraints-static.tmp
	mv constraints-static.tmp constraints-static.txt

test-unit: $(STAMP) ## unit tests: pure logic and handlers with fakes, network blocked
	$(PY) -m pytest tests/unit -q $(PARALLEL)

test-integration: $(STAMP) ## template.yaml deployed into moto, events end to end
	$(PY) -m pytest tests/integration -q --ignore=tests/integration/engines $(PARALLEL)

# The real engines (DynamoDB Local, Spark + Iceberg, asl-validator, Chromium) need Java >= 17, npm
# and root with apt-get: one that cannot be installed is skipped with one line saying why, unless
# REQUIRE_ENGINES=1 (CI).
engines: ## install the real engines of the engine tier (into ~/.cache/datalake-events/engines)
	@scripts/install-engines

# Then the integration tier again with DynamoDB (tables and streams) served by DynamoDB Local.
test-engines: $(STAMP) engines ## the engine tier: the same code on DynamoDB Local, Spark + Iceberg, ASL validators, strict Trino SQL, the dashboards' preview in Chromium
	$(PY) -m pytest tests/integration/engines -q
	@if [ -f "$${ENGINES_HOME:-$$HOME/.cache/datalake-events/engines}/dynamodb-local-3.3.1/.installed" ]; then \
	  echo "integration tier on DynamoDB Local (LOCAL_DYNAMODB=dynamodb-local)"; \
	  LOCAL_DYNAMODB=dynamodb-local $(PY) -m pytest tests/integration -q --ignore=tests/integration/engines $(PARALLEL); \
	else echo "engine tier: integration tier on DynamoDB Local skipped: DynamoDB Local is not installed"; fi

test-e2e: $(STAMP) ## against a deployed stack: AWS_SAM_STACK_NAME=<stack> make test-e2e
	$(PY) -m pytest tests/e2e -q

clean-workbook: $(STAMP) ## FILE=<workbook> [SPEC=<json>]: clean a local workbook as the function does, CSVs in .local/cleaned/<name>/
	@test -n "$(FILE)" || { echo "usage: make clean-workbook FILE=book.xlsx [SPEC='{\"header_row\": 3}']"; exit 2; }
	$(PY) -m dev clean-workbook "$(FILE)" $(if $(SPEC),--spec '$(SPEC)')

invoke: $(STAMP) ## FUNCTION=<logical id> EVENT=events/<...>.json [CONFIG=config/pipeline.yaml]: Docker-free local invoke
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { \
	  echo "usage: make invoke FUNCTION=FileTrackerFunction EVENT=events/file_tracker/sqs_batch.json"; exit 2; }
	$(PY) -m dev invoke $(FUNCTION) $(EVENT) $(if $(CONFIG),--config $(CONFIG))

# No container: SAM's python3.13 builder needs python3.13 on PATH, which the venv provides.
# Committed (the template's ScriptLocation): a plain `sam build && sam deploy` ships it, and a
# unit test fails when it no longer matches glue/cdc_merge.
glue-bundle: $(STAMP) ## glue/cdc_merge_job.py: the Glue job as one deployable file (commit it)
	$(PY) scripts/bundle_glue_job.py

# CloudFormation cannot read a file for a QueryString: each AWS::Athena::NamedQuery carries a copy
# of its athena/<capability>/<name>.sql (named in the comment above it), and a unit test fails
# when the two differ.
named-queries: $(STAMP) ## template.yaml: each named query's QueryString rewritten from its athena/<capability>/*.sql
	$(PY) scripts/sync_named_queries.py

dashboards: $(STAMP) ## template.yaml: the generated CloudWatch and QuickSight dashboard blocks rewritten (tools/dashboards)
	$(PY) -m tools.dashboards

build: glue-bundle ## sam build (cached, parallel, arm64, no container)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/sam build --config-env $(CONFIG_ENV)
	@# Every time, as `sam build --cached` refills .aws-sam/build with unfinished copies:
	@# bytecode Lambda can use (its code folders are read-only) and no SDK copy the runtime has.
	$(PY) scripts/finish_build.py .aws-sam/build

load-config: $(STAMP) ## FILE=config/pipeline.yaml [STACK=<stack>] [DRY_RUN=1]: validate + apply a pipeline config
	@test -n "$(FILE)" || { echo "usage: make load-config FILE=config/pipeline.yaml [STACK=datalake-events] [DRY_RUN=1]"; exit 2; }
	$(PY) -m tools.load_config $(FILE) --stack $(or $(STACK),datalake-events) $(if $(DRY_RUN),--dry-run)

table-status: $(STAMP) ## STACK=<stack> [CADENCE=<cadence>] [FORMAT=json]: each table's last run, outcome, pending files, last error
	$(PY) -m tools.table_status --stack $(or $(STACK),datalake-events) $(if $(CADENCE),--cadence $(CADENCE)) $(if $(FORMAT),--format $(FORMAT))

deploy: build ## sam deploy with samconfig.toml's CONFIG_ENV (default|dev|prod)
	$(BIN)/sam deploy --config-env $(CONFIG_ENV)

deploy-guided: build ## first deployment: sam deploy --guided, answers saved in samconfig.toml
	$(BIN)/sam deploy --guided --config-env $(CONFIG_ENV)

# Buckets the stack deletes are emptied first; the data and catalog it retains are listed after,
# by physical name, with the commands that remove them.
destroy: $(STAMP) ## STACK=<stack> [REGION=us-east-1] [CONFIRM=1]: delete the stack, list what it kept
	@test -n "$(STACK)" || { echo "usage: make destroy STACK=<stack> [REGION=us-east-1] [CONFIRM=1]"; exit 2; }
	$(PY) -m tools.destroy --stack $(STACK) --region $(REGION) $(if $(CONFIRM),--yes)

# Exit codes: 0 stored and posted, 1 stored not posted, 3 AWS error, 4 not stored (tools/test_alert.py).
test-alert: $(STAMP) ## STACK=<stack> [REGION=us-east-1] [TIMEOUT=120]: synthetic failure through the monitor topic; stored? posted?
	@test -n "$(STACK)" || { echo "usage: make test-alert STACK=<stack> [REGION=us-east-1] [TIMEOUT=120]"; exit 2; }
	$(PY) -m tools.test_alert --stack $(STACK) --region $(REGION) --timeout $(or $(TIMEOUT),120)

lock: $(STAMP) ## re-pin every dev package into constraints.txt after changing a requirement
	@{ sed -n '1,3p' constraints.txt; $(PY) -m pip freeze --exclude-editable; } > constraints.tmp
	mv constraints.tmp constraints.txt

MUTATION_STAMP := $(VENV)/.mutation-installed
$(MUTATION_STAMP): $(STAMP) requirements-mutation.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-mutation.txt
	@touch $(MUTATION_STAMP)

# Not part of `make test`: about 30 minutes on two cores. Scores go into benchmarks/results.json,
# survivors into .mutation/<suite>/survivors.txt (docs/testing.md: what the survivors left are).
mutation: $(MUTATION_STAMP) ## [SUITES="iceberg_cdc slack"]: mutation score of the data-critical modules (goal >= 90%)
	$(PY) -m tools.mutation --diffs $(SUITES)

cost: $(STAMP) ## the monthly bill per capability for docs/cost.md's workload (edit tools/cost_model.py's Workload)
	$(PY) -m tools.cost_model

bench: $(STAMP) ## benchmarks against the source posts' naive approach; writes benchmarks/results.json
	$(PY) -m benchmarks.run

clean: ## remove build output and caches (keeps .venv)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis .mutation
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
