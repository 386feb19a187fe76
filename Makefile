# Catastrophic Inheritance, reproduced -- the two commands of the README:
#
#   make book    execute every chapter (UIM_PROFILE=lab unless set) and render the HTML
#                book with warnings as errors; prints the path of _build/html/index.html
#   make test    unit tests + lint (ruff, mypy) + every notebook executed once (each its own
#                test) + a book build from those outputs, in the ci profile
#
# Both create .venv on first use and reinstall only when requirements*.txt or
# pyproject.toml is newer than the stamp file (so a warm rerun starts at once).
# Other targets: make sync (jupytext pairs), make clean, make distclean, make venv.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.uim-installed
# Put the venv first on PATH so that notebook kernels (jupyter-book, nbval) start with
# the venv's python even where a user-level "python3" kernelspec points elsewhere.
export PATH := $(abspath $(BIN)):$(PATH)

# Checkpoint and embedding cache, inside the clone (ignored by git): a fresh clone starts
# cold, and `make clean` leaves it alone so rebuilding the book stays fast.
UIM_CACHE ?= $(CURDIR)/.uim_cache
export UIM_CACHE

# Profile of `make book` (ci | lab | wild); `make test` always uses ci.
UIM_PROFILE ?= lab
export UIM_PROFILE
# Extra arguments: `make book BOOK_ARGS=--all`, `make test TEST_ARGS="-k cache -x"`.
BOOK_ARGS ?=
TEST_ARGS ?=
# Two xdist workers = the two cores of the reference machine.
TEST_WORKERS ?= 2

.PHONY: help venv book test sync clean distclean

help:
	@echo "make book       execute all chapters (UIM_PROFILE=$(UIM_PROFILE)) and build _build/html"
	@echo "make test       unit tests + ruff + mypy + every notebook, once + book build (UIM_PROFILE=ci)"
	@echo "make sync       jupytext --sync every notebooks/NN_*.py / .ipynb pair, strip outputs"
	@echo "make clean      remove _build and caches (keeps .venv and UIM_CACHE)"
	@echo "make distclean  clean + remove .venv"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-torch.txt pyproject.toml scripts/setup_venv.sh scripts/pip_to_uv.py
	bash scripts/setup_venv.sh "$(VENV)" "$(PYTHON)"

book: $(STAMP)
	$(BIN)/python scripts/build_book.py $(BOOK_ARGS)

# One pytest run so that there is one closing line and one exit code; ruff and mypy run
# inside it (tests/test_lint.py, about 12 s of one worker on a fresh clone, 2 s warm).
# tests/test_book_build.py comes first: it executes every notebook of the book once, two
# side by side (scripts/build_book.py, chapters first, their exercise solutions after
# them), reports each notebook as its own test and builds the book from those outputs;
# --dist loadfile keeps it on one worker while the other runs the unit tests.
# --must-run (conftest.py) fails the run if the lint or the book-build test ran no
# passing test, so a collection slip can never pass silently; pytest's own "no tests
# ran" exits 5.
# OMP_NUM_THREADS=1: two xdist workers on two cores; torch's default of one thread per
# core in each process oversubscribes the CPU and spin-waits (several times slower).
# OMP_WAIT_POLICY=PASSIVE: the few tests that train with two threads on purpose then
# sleep instead of spinning while they wait for a busy core (20 s -> 8 s for two of
# them beside two busy processes), and leave that core to the notebooks. No number
# changes: only how idle threads wait.
test: $(STAMP)
	UIM_PROFILE=ci HF_HUB_OFFLINE=1 OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} \
	  OMP_WAIT_POLICY=$${OMP_WAIT_POLICY:-PASSIVE} $(BIN)/python -m pytest \
	  tests/test_book_build.py tests \
	  -n $(TEST_WORKERS) --dist loadfile --durations=10 \
	  --must-run tests/test_book_build.py --must-run tests/test_lint.py \
	  $(TEST_ARGS)

sync: $(STAMP)
	$(BIN)/python scripts/sync_notebooks.py

clean:
	rm -rf _build .pytest_cache .mypy_cache .ruff_cache .jupyter_cache build dist *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -print0 \
	  | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV)
