# Two entry points (see README): `make demo` and `make test`.
# Both create ./.venv on first use; later runs reuse it (the stamp tracks pyproject.toml).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
TORCH := torch==2.13.0
DATA ?= $(if $(DLAB_DATA),$(DLAB_DATA),$(wildcard ../shared/data))

.PHONY: demo test bench install clean notebooks jupyter labs-full browser sandbox graphviz

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

# The dashboard test looks at the page in headless Chromium; installed here when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
	  echo "Chromium could not be installed: the dashboard's browser check will be skipped."

# `dlab grade` runs student code under bubblewrap (namespaces: no network, a private
# filesystem, its own process tree); installed here when missing.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null) || \
	  echo "bubblewrap could not be installed: grading runs with limits only (sandbox: none)."

# keras.utils.plot_model draws with Graphviz's `dot` (keras-functional); a text listing of the
# graph stands in where it cannot be installed.
graphviz:
	@command -v dot >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) || \
	  echo "Graphviz could not be installed: model graphs are listed as text."

# Quick modes, notebooks and grading of every lab, and the full mode of the labs that take
# seconds (the longest, marked slow, take 10-20 s each on an idle machine). One pytest worker
# per core (at most 4), one torch thread each; all tests of a lab share a worker.
test: $(STAMP) browser sandbox graphviz
	DLAB_DATA=$(DATA) OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n auto --maxprocesses 4 \
	  --dist loadgroup --durations=15

# Every lab's student notebook (English and Spanish) in notebooks/, then JupyterLab on them.
notebooks: $(STAMP)
	$(BIN)/dlab notebook --all --out notebooks
	$(BIN)/dlab notebook --all --lang es --out notebooks

jupyter: notebooks
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	$(BIN)/jupyter lab notebooks/

# Every lab in full mode (minutes); `make test` runs the quick modes.
labs-full: $(STAMP)
	DLAB_DATA=$(DATA) $(BIN)/dlab run --all
	$(BIN)/dlab dashboard

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	DLAB_DATA=$(DATA) $(BIN)/python benchmarks/engine_overhead.py
	DLAB_DATA=$(DATA) $(BIN)/python benchmarks/cnn_speed.py
	$(BIN)/python benchmarks/gpt_precision.py
	$(BIN)/python benchmarks/memory_format.py
	$(BIN)/python benchmarks/diffusion_precision.py
	DLAB_DATA=$(DATA) $(BIN)/python benchmarks/grading_isolation.py

clean:
	rm -rf $(VENV)
