# The two commands of this project (README): make deploy, make test. Development: make lint, make lock.
.PHONY: deploy test bootstrap unit lab-down lint lock lint-ruff lint-format lint-mypy lint-yaml lint-ansible lint-charts lint-rules

bootstrap:
	@scripts/bootstrap

deploy: bootstrap
	.venv/bin/egovops deploy $(ARGS)

test: bootstrap
	.venv/bin/python -m pytest $(ARGS)

unit: bootstrap
	.venv/bin/python -m pytest -m unit $(ARGS)

# ---- development (CONTRIBUTING.md). Every tool runs even when an earlier one failed, so one run names
# every finding; the target fails if any tool did.
VENV := .venv/bin
# Files held to `ruff format` (checked by lint). The rest of the tree is formatted in one commit at a quiet
# moment (it rewraps ~140 files); until then add a file here once you have formatted it.
FORMATTED := egovops/harden egovops/model/checks scripts/lint_charts.py scripts/lockcheck.py tests/unit/test_harden_playbook.py \
             tests/unit/test_dev_lock.py tests/unit/test_package_layers.py tests/unit/test_dev_changelog.py \
             tests/unit/test_net_vrp_grammar.py scripts/vrp_grammar.py scripts/lint_module_args.py \
             tests/unit/test_lab_procs.py
RULES := $(sort $(wildcard monitors/*.rules.yml monitors/*/*.rules.yml))

lint: bootstrap
	@rc=0; \
	for t in lint-ruff lint-format lint-mypy lint-yaml lint-ansible lint-charts lint-rules; do \
	  start=$$(date +%s); $(MAKE) --no-print-directory $$t || { rc=1; echo "make lint: $$t FAILED" >&2; }; \
	  echo "make lint: $$t done in $$(( $$(date +%s) - start ))s" >&2; \
	done; exit $$rc

lint-ruff:
	$(VENV)/ruff check .

lint-format:
	$(VENV)/ruff format --check $(FORMATTED)

lint-mypy:
	$(VENV)/mypy
	$(VENV)/mypy stacks/__main__.py
	$(VENV)/mypy stacks/policy/__main__.py

lint-yaml:
	$(VENV)/yamllint --strict .

# ansible-lint no longer reports unknown parameters of ansible.builtin modules (ansible-lint#4311):
# scripts/lint_module_args.py checks them against ansible-doc. Both run; the target fails if either did.
lint-ansible:
	@rc=0; PATH="$(CURDIR)/$(VENV):$$PATH" $(VENV)/ansible-lint -q --nocolor roles playbooks || rc=1; \
	$(VENV)/python scripts/lint_module_args.py || rc=1; exit $$rc

lint-charts:
	$(VENV)/python scripts/lint_charts.py

lint-rules:
	@if [ -z "$(RULES)" ]; then echo "lint-rules: no monitors/**/*.rules.yml yet"; \
	else command -v promtool >/dev/null || { echo "promtool missing: install prometheus (scripts/apt-packages.txt)" >&2; exit 1; }; \
	  promtool check rules $(RULES); fi

# Regenerate the lock files from pyproject.toml (after adding or changing a dependency; CONTRIBUTING.md).
lock:
	@scripts/lock
