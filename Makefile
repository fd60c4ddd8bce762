# Restyle: `make run` starts the whole site, `make test` runs every test. Both set up what they
# need first (a virtualenv with the pinned requirements, Debian packages when missing).
# `make run VENV=path` runs from another virtualenv (made when missing), as `make smoke` does.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
export VENV
export RESTYLE_PORT ?= $(PORT)
export RESTYLE_HOST ?= 127.0.0.1
# Not exported: the tests choose their own var folder (config/settings_test.py).
VAR_DIR := $(or $(RESTYLE_VAR_DIR),var)
# A runtime-only virtualenv (requirements.txt alone) for the fresh-machine check.
SMOKE_VENV ?= .venv-smoke

.PHONY: run test test-postgres smoke audit gpu-check install install-dev system-packages browser test-brokers postgresql migrate demo clean help

help:
	@echo "make run   - install everything and start web, Redis and the Celery workers"
	@echo "make test  - install what the tests need and run them all (translator and e2e suites also on PostgreSQL), then the fresh-machine smoke check"
	@echo "make gpu-check - on a CUDA machine with its own torch: the GPU tests and benchmarks, results under \$$OUT"
	@echo "make audit - look the pinned requirements up in PyPI's vulnerability data (needs the network)"

$(PY):
	python3 -m venv $(VENV)

# Marker files make re-runs instant until a requirements file changes.
$(VENV)/.installed-runtime: requirements.txt pyproject.toml | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# mlcore itself, editable and without dependencies (requirements.txt pins them): `mlcore` anywhere.
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed-runtime
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed-runtime system-packages
install-dev: $(VENV)/.installed-dev system-packages browser test-brokers postgresql

system-packages:
	@site/install-system-packages.sh redis-server

browser:
	@site/install-system-packages.sh chromium

# RabbitMQ, for tests/e2e/test_rabbitmq.py only: `make run` keeps Redis as its broker.
test-brokers:
	@site/install-system-packages.sh rabbitmq-server

# Tests only: the throwaway cluster of the PostgreSQL pass (tests/pgcluster.py).
postgresql:
	@site/install-system-packages.sh postgresql

migrate: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0

demo: migrate
	-$(PY) manage.py install_demo_models
	@$(PY) manage.py ensure_demo_user

# Redis listens on the port config/settings.py makes web, workers and cache dial
# (RESTYLE_REDIS_PORT, or the port of RESTYLE_REDIS_URL when that is set).
# The three workers share the machine's cores: torch threads per worker, unless set, are the
# cores divided by three (at least 1), so three busy workers do not run several threads per core.
run: demo
	@mkdir -p "$(VAR_DIR)/redis"
	@redis_port=$$($(PY) -c 'from config.settings import REDIS_PORT; print(REDIS_PORT)') || exit 1; \
	cores=$$(nproc); threads=$${RESTYLE_WORKER_TORCH_THREADS:-$$(( cores / 3 > 0 ? cores / 3 : 1 ))}; \
	echo; \
	echo "  Restyle: http://$(RESTYLE_HOST):$(RESTYLE_PORT)/   (Redis on port $$redis_port; $$threads torch threads per worker; Ctrl-C stops everything)"; \
	echo; \
	RESTYLE_REDIS_PORT=$$redis_port RESTYLE_WORKER_TORCH_THREADS=$$threads PYTHONUNBUFFERED=1 \
		exec $(VENV)/bin/honcho -f site/Procfile -d . start

test: install-dev
	$(PY) -m pytest
	@$(MAKE) --no-print-directory test-postgres
	@$(MAKE) --no-print-directory smoke

# The translator and e2e suites again, on PostgreSQL: a throwaway cluster in a temporary folder, named by
# DATABASE_URL to the tests and every process they start (the pass above stays on SQLite).
# RabbitMQ changes nothing the database sees: its tests run in the SQLite pass only.
PG_TESTS ?= tests/translator tests/e2e --ignore=tests/e2e/test_rabbitmq.py
test-postgres: install-dev
	$(PY) -m tests.pgcluster -- $(PY) -m pytest -p no:cacheprovider $(PG_TESTS)

# The fresh-machine path end to end (site/smoke.py): $(SMOKE_VENV) from requirements.txt alone,
# the real `make run` on free ports in a temporary var folder, a photo converted through the API.
smoke: system-packages
	python3 site/smoke.py --venv $(SMOKE_VENV)

# Known vulnerabilities of the pins, as PyPI's JSON API reports them. --no-deps --disable-pip:
# audit the pins as written instead of resolving them in a scratch virtualenv (which would try to
# download torch, installed here from the machine's disk). --strict: a pin that cannot be looked
# up fails the audit rather than passing unchecked. Not part of `make test`: it needs the network.
audit: $(VENV)/.installed-dev
	$(VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off \
		-r requirements.txt -r requirements-dev.txt

# The GPU tests and benchmarks (site/gpu-check.sh), on a CUDA machine's own python3 and torch: no
# virtualenv, no Django. Under 10 minutes; results under $OUT (else gpu-check-out). No CUDA: exits 0.
gpu-check:
	@site/gpu-check.sh

clean:
	rm -rf var staticfiles .pytest_cache
