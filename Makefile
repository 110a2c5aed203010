# Two entry points a newcomer needs: `make run` (the whole system, locally) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install run test bench lint fuzz

# The virtual environment is rebuilt whenever the dependencies of the project or of its local
# workshop (workshop/: the emulator, sample data and the local stack's command) change.
$(VENV)/.installed: pyproject.toml workshop/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e ./workshop
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/photon-archive-workshop dev

test: install
	$(BIN)/pytest

# The parsers and the thumbnailer under random inputs for FUZZ_SECONDS in all (make test gives them a
# fixed, derandomized few); prints how many inputs each target was tried on.
FUZZ_SECONDS ?= 600
fuzz: install
	PHOTON_ARCHIVE_FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/pytest photon_archive_tests/fuzz -q --timeout=0

bench: install
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check photon_archive workshop photon_archive_tests bench
	$(BIN)/mypy photon_archive workshop/photon_archive_workshop photon_archive_tests bench
	$(BIN)/lint-imports
	$(BIN)/dg check defs
