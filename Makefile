# The two set-up commands of the README are `make serve` and `make test`;
# both create the virtual environment on first use.
VENV ?= .venv
STAMP := $(VENV)/.installed

.PHONY: serve test check test-clients bench bench-dataplane demo

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/vpnaas serve

test: $(STAMP)
	VENV=$(VENV) scripts/test

check: $(STAMP)
	VENV=$(VENV) scripts/test --lint-only

test-clients: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile -p no:randomly tests/clients tests/tempest

bench: $(STAMP)
	$(VENV)/bin/python -m bench

# root: the data plane's figures with real charons (bench/README.md)
bench-dataplane: $(STAMP)
	$(VENV)/bin/python -m bench.dataplane

# root: two gateway namespaces, a server, two agents, one VPN (see README)
demo: $(STAMP)
	VENV=$(VENV) scripts/demo
