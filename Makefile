# MallBots: `make run` and `make test` are all a bare machine needs (Python 3.11+).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test faults bench install lock lint-imports clean-var

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# requirements.in lists the direct dependencies; requirements.txt is the lock generated from it (pip-tools).
# Existing pins are kept; `make lock PIP_COMPILE_ARGS=--upgrade` moves them to the newest allowed versions.
lock: $(STAMP)
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links $(PIP_COMPILE_ARGS) \
		--output-file requirements.txt requirements.in

run: $(STAMP)
	$(PY) manage.py run_all

# Tests use their own embedded servers (./var/test, NATS on 14222) so a running `make run` is untouched.
# Browser tests need Debian's chromium; without it they are skipped (.ci/run installs it).
test: $(STAMP)
	@command -v chromium >/dev/null || echo "make test: no chromium on this machine, the browser tests are skipped (apt-get install chromium)"
	VAR_DIR=$(CURDIR)/var/test EMBEDDED_NATS_PORT=14222 $(PY) -m pytest $(PYTEST_ARGS)

# The fault suite (quality.md §2): tests marked `faults` kill NATS nodes and processes under load. `make test`
# leaves them out (pytest.ini: -m "not faults"); this target runs only them, on servers of its own.
faults: $(STAMP)
	VAR_DIR=$(CURDIR)/var/faults EMBEDDED_NATS_PORT=14224 $(PY) -m pytest -m faults $(PYTEST_ARGS)

bench: $(STAMP)
	VAR_DIR=$(CURDIR)/var/bench EMBEDDED_NATS_PORT=14223 $(PY) -m bench $(BENCH_ARGS)

lint-imports: $(STAMP)
	$(VENV)/bin/lint-imports
