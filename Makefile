# Marmoset entry points. `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
PYTHON ?= python3
PORT ?= 2001
BOARD ?=
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help deps run run-cpython test test-host lint unit qemu-test bench overlay image flash qemu-system-test clean

help:
	@echo "make run        serve www/ with MicroPython on http://127.0.0.1:$(PORT)/"
	@echo "make test       lint, unit and integration tests (CPython, MicroPython, ARM under qemu)"
	@echo "make qemu-test  [BOARD=name]  the server proven on each board's architecture"
	@echo "make bench      [FULL=1]  Marmoset against lighttpd, BusyBox httpd and microdot"
	@echo "make lint       ruff and shellcheck"

deps:
	@scripts/install-deps
	@$(PYTHON) scripts/sysroot.py ensure amd64

run: deps
	MICROPYPATH=server scripts/upy -X heapsize=8M -m marmoset -c conf -p $(PORT)

run-cpython: deps
	PYTHONPATH=server $(PYTHON) -m marmoset -c conf -p $(PORT)

lint: deps
	ruff check .
	shellcheck scripts/upy scripts/install-deps .ci/run server/bin/cheetah
	$(PYTHON) firmware/overlay.py --check

unit: deps
	cd tests/unit && MICROPYPATH=../../server:. ../../scripts/upy run.py
	cd tests/unit && PYTHONPATH=../../server $(PYTHON) run.py

test-host: deps
	$(PYTHON) -m pytest -q tests

test: lint test-host qemu-test
	$(PYTHON) scripts/qemu-system-test --board qemu-aarch64
	$(PYTHON) scripts/qemu-system-test --board qemu-armv7

qemu-test: deps
	$(PYTHON) scripts/qemu-test $(if $(BOARD),--board $(BOARD))

bench: deps
	$(PYTHON) scripts/bench $(if $(FULL),--full)

clean:
	rm -rf out bench-results .pytest_cache

overlay:
	$(PYTHON) firmware/overlay.py

image: deps
	$(PYTHON) firmware/image.py --board $(or $(BOARD),qemu-aarch64) $(if $(AUTHORIZED_KEY),--authorized-key $(AUTHORIZED_KEY))

qemu-system-test: deps
	$(PYTHON) scripts/qemu-system-test --board $(or $(BOARD),qemu-aarch64)

flash:
	$(PYTHON) scripts/flash $(IMAGE) $(DEVICE)
