# Two entry points (see README): `make demo` and `make test`.
# Both create ./.venv on first use; later runs reuse it (the stamp tracks pyproject.toml).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
TORCH := torch==2.13.0
DATA ?= $(if $(DLAB_DATA),$(DLAB_DATA),$(wildcard ../shared/data))

.PHONY: demo test bench install clean notebooks jupyter labs-full

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# CPU torch first: a looser spec would pull gigabytes of CUDA wheels.
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dlab run moons-mlp

test: $(STAMP)
	DLAB_DATA=$(DATA) $(BIN)/python -m pytest -q

# Every lab's student notebook (English and Spanish) in notebooks/, then JupyterLab on them.
notebooks: $(STAMP)
	$(BIN)/dlab notebook --all --out notebooks
	$(BIN)/dlab notebook --all --lang es --out notebooks

jupyter: notebooks
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	$(BIN)/jupyter lab notebooks/

# Every lab in full mode (minutes); `make test` runs the quick modes.
labs-full: $(STAMP)
	for lab in $$($(BIN)/python -c "from dlab.lab import catalog; print(*catalog.labs())"); do \
	  DLAB_DATA=$(DATA) $(BIN)/dlab run $$lab || status=1; done; exit $${status:-0}

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	DLAB_DATA=$(DATA) $(BIN)/python benchmarks/engine_overhead.py

clean:
	rm -rf $(VENV)
