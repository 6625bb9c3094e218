# The two commands of this project (README): make deploy, make test.
.PHONY: deploy test bootstrap unit lab-down

bootstrap:
	@scripts/bootstrap

deploy: bootstrap
	.venv/bin/egovops deploy $(ARGS)

test: bootstrap
	.venv/bin/python -m pytest $(ARGS)

unit: bootstrap
	.venv/bin/python -m pytest -m unit $(ARGS)
