# The two commands of the README. Each one sets itself up on a fresh machine
# with Python 3.11: a local virtualenv in .venv with the pinned working set.
PYTHON ?= python3
# The shared folder `make data` links from (the CUHK03 crops and torchreid's
# weights); by default beside the repository.
SHARED ?= ../shared
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# The CPU kernels the tests run on: native, avx2 (those of a CPU without
# AVX-512) or default (no ATen vector kernels either); tools/run_tests.py
# --kernels. Set on the command line only (`make test KERNELS=avx2`): an
# exported KERNELS does not change what CI runs.
KERNELS := native
# What `make test-fast` leaves out: the markers of pytest.ini.
FAST_MARKERS := not e2e and not dist and not slow

.PHONY: demo test test-fast lint venv clean-venv data

venv: $(STAMP)

$(STAMP): requirements/lock.txt setup.py requirements/runtime.txt
	@echo "First run: installing the pinned set of requirements/lock.txt into $(VENV)"
	@echo "(torch, a CUDA build that also runs on CPU: about 6.3 GB on disk,"
	@echo " downloaded from the package registry unless pip finds it locally; 1.5-3 min)."
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements/lock.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)
	@echo "Installed: $$(du -sh $(VENV) | cut -f1) in $(VENV)"

# Generate the synthetic demo set, train Cluster-Contrast on it, print mAP/CMC.
demo: $(STAMP)
	$(PY) tools/demo.py

# The lint (ruff.toml), then the whole test suite (what .ci/run runs).
test: lint
	$(PY) tools/run_tests.py --kernels "$(KERNELS)" $(PYTEST_ARGS)

# pyflakes / pycodestyle over the tree (ruff.toml).
lint: $(STAMP)
	$(PY) -m ruff check .

# The suite without the end-to-end, multi-process and slow tests, while
# iterating. CI runs everything (`make test`).
test-fast: $(STAMP)
	$(PY) tools/run_tests.py --kernels "$(KERNELS)" -m "$(FAST_MARKERS)" $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)

# Link the shared CUHK03 crops and torchreid's weights under data/, where the
# configs read them (docs/en/user_guides/data.md): data/cuhk03 ->
# $(SHARED)/data/cuhk03, data/weights -> $(SHARED)/weights, absolute links.
# An entry of data/ already there is left as it is. Not needed by `make test`
# or `make demo`.
data:
	@for pair in cuhk03=data/cuhk03 weights=weights; do \
	  link="data/$${pair%%=*}"; src="$(SHARED)/$${pair#*=}"; \
	  if [ -e "$$link" ]; then \
	    echo "$$link is already there ($$(cd "$$link" && pwd -P))"; \
	    continue; \
	  fi; \
	  if [ -L "$$link" ]; then \
	    echo "make data: $$link is a broken link to $$(readlink "$$link");" \
	      "remove it and run make data again" >&2; \
	    exit 1; \
	  fi; \
	  if [ ! -d "$$src" ]; then \
	    echo "make data: $$src not found (the shared folder's" \
	      "$${pair#*=}/). If the shared folder is not $(SHARED):" \
	      "make data SHARED=/path/to/shared" >&2; \
	    exit 1; \
	  fi; \
	  mkdir -p data && target="$$(cd "$$src" && pwd -P)" && \
	    ln -s "$$target" "$$link" && echo "$$link -> $$target"; \
	done
