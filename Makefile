# The two quick-start commands (README): `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test venv test-venv system-deps clean deb rpm package-test build-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install --quiet -e .

test-venv: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

## run: install into .venv and start the daemon on the embedded default (Ctrl-C stops it)
run: venv
	$(BIN)/tesserad

## system-deps: the Debian packages the real-part tests need (as root; skipped otherwise)
system-deps:
	scripts/install-test-deps.sh

## test: install everything the tests need, then run the whole suite
test: system-deps test-venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## build-deps: the Debian packages that building and testing the packages needs (as root)
build-deps:
	packaging/install-build-deps.sh

## deb, rpm: distribution packages into dist/ (README: Packages)
deb: build-deps
	packaging/build.sh deb dist

rpm: build-deps
	packaging/build.sh rpm dist

## package-test: build both, lintian, install into a clean Debian root, upgrade, purge (not in CI)
package-test: build-deps
	packaging/package-test.sh

clean:
	rm -rf $(VENV) build dist *.egg-info test-artifacts
