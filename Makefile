# The two commands of the README. Each one sets itself up on a fresh machine
# with Python 3.11: a local virtualenv in .venv with the pinned working set.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test venv clean-venv

venv: $(STAMP)

$(STAMP): requirements/lock.txt setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements/lock.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Generate the synthetic demo set, train Cluster-Contrast on it, print mAP/CMC.
demo: $(STAMP)
	$(PY) tools/demo.py

# The whole test suite (what .ci/run runs).
test: $(STAMP)
	$(PY) tools/run_tests.py $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
