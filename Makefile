# Two commands: `make demo` and `make test`. Each installs what is missing first (see `make setup`).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DURATION ?= 60
# Debian packages of the real servers and tools the tests and the demo run (command -> package; "-": a
# library without a command, checked with dpkg).
DEB_CMDS := mosquitto:mosquitto mosquitto_sub:mosquitto-clients influxd:influxdb influx:influxdb-client \
	victoria-metrics:victoria-metrics prometheus-alertmanager:prometheus-alertmanager snmpd:snmpd \
	snmpbulkwalk:snmp socat:socat prometheus-snmp-exporter:prometheus-snmp-exporter \
	chromium:chromium chromedriver:chromium-driver strace:strace systemd-analyze:systemd \
	ffprobe:ffmpeg -:python3-gst-1.0 -:gir1.2-gst-rtsp-server-1.0 -:gstreamer1.0-plugins-good \
	-:gstreamer1.0-plugins-base
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup system-packages venv test lint typecheck imports unit hours demo clean

setup: system-packages venv

# Installs only the packages whose command is missing; a policy-rc.d keeps apt from starting the
# servers as system services (the project starts its own copies on loopback).
system-packages:
	@missing=""; for pair in $(DEB_CMDS); do cmd=$${pair%%:*}; pkg=$${pair##*:}; \
	  if [ "$$cmd" = - ]; then dpkg-query -W -f='$${db:Status-Abbrev}' $$pkg 2>/dev/null | grep -q "^ii" || missing="$$missing $$pkg"; \
	  else command -v $$cmd >/dev/null 2>&1 || [ -x /usr/sbin/$$cmd ] || [ -x /usr/bin/$$cmd ] || missing="$$missing $$pkg"; fi; done; \
	$(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d.edge >/dev/null && \
	  { [ -e /usr/sbin/policy-rc.d ] || { $(SUDO) cp /usr/sbin/policy-rc.d.edge /usr/sbin/policy-rc.d && $(SUDO) chmod +x /usr/sbin/policy-rc.d && touch .policy-rc.d.ours; }; } && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; rc=$$?; \
	  [ -e .policy-rc.d.ours ] && $(SUDO) rm -f /usr/sbin/policy-rc.d .policy-rc.d.ours; \
	  $(SUDO) rm -f /usr/sbin/policy-rc.d.edge; exit $$rc; \
	fi

venv: $(VENV)/.installed

# edge-gateway-dev (./dev) is not in the [dev] extra (pip would look for that name on the index):
# it is installed from the tree in the same pip call. The stamp is set only once both import.
$(VENV)/.installed: pyproject.toml dev/pyproject.toml
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]' -e ./dev --config-settings editable_mode=compat
	@$(BIN)/python -c 'import edge_gateway, edge_gateway_dev'
	@touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

imports: setup
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest -m 'not integration'

# The tests that depend on the simulated daily curve: at 03:00, 07:00, 19:00 and 23:59 WIB (also part
# of `make test`), or only at CLOCK=ISO8601 (e.g. 2026-12-01T12:00+07:00).
hours: setup
	$(if $(CLOCK),EDGE_SIM_CLOCK=$(CLOCK) )$(BIN)/pytest -m hours

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

demo: setup
	$(BIN)/edge demo --duration $(DURATION) $(if $(SUMMARY),--summary-json $(SUMMARY))

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
