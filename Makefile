# Restyle: `make run` starts the whole site, `make test` runs every test. Both set up what they
# need first (a virtualenv in .venv with the pinned requirements, Debian packages when missing).
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
export RESTYLE_PORT ?= $(PORT)

.PHONY: run test audit install install-dev system-packages browser migrate demo clean help

help:
	@echo "make run   - install everything and start web, Redis and a Celery worker"
	@echo "make test  - install what the tests need and run them all"
	@echo "make audit - look the pinned requirements up in PyPI's vulnerability data (needs the network)"

$(PY):
	python3 -m venv $(VENV)

# Marker files make re-runs instant until a requirements file changes.
$(VENV)/.installed-runtime: requirements.txt | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed-runtime
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed-runtime system-packages
install-dev: $(VENV)/.installed-dev system-packages browser

system-packages:
	@site/install-system-packages.sh redis-server

browser:
	@site/install-system-packages.sh chromium

migrate: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py collectstatic --noinput -v0

demo: migrate
	-$(PY) manage.py install_demo_models
	@$(PY) manage.py ensure_demo_user

run: demo
	@mkdir -p var/redis
	@echo
	@echo "  Restyle: http://127.0.0.1:$(RESTYLE_PORT)/   (Ctrl-C stops everything)"
	@echo
	$(VENV)/bin/honcho -f site/Procfile -d . start

test: install-dev
	$(PY) -m pytest

# Known vulnerabilities of the pins, as PyPI's JSON API reports them. --no-deps --disable-pip:
# audit the pins as written instead of resolving them in a scratch virtualenv (which would try to
# download torch, installed here from the machine's disk). --strict: a pin that cannot be looked
# up fails the audit rather than passing unchecked. Not part of `make test`: it needs the network.
audit: $(VENV)/.installed-dev
	$(VENV)/bin/pip-audit --strict --no-deps --disable-pip --progress-spinner off \
		-r requirements.txt -r requirements-dev.txt

clean:
	rm -rf var staticfiles .pytest_cache
