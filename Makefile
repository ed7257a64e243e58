# Two commands for a new user:  make run  (the hub on the embedded default)  and  make test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WORKERS ?= 1
# Test processes (pytest-xdist); a module's tests stay in one process, so its sandboxes start once.
TEST_PROCESSES ?= 2
# The embedded default runs in demo mode (demo secrets, plain HTTP on localhost). Set HUB_DEMO=0 for production.
export HUB_DEMO ?= 1
export WORKERS

.PHONY: run test install clean

run: $(VENV)/.installed
	$(BIN)/python manage.py runhub

test: $(VENV)/.installed
	$(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

clean:
	rm -rf var
