# `make run` and `make test` each set everything up on a fresh machine.
# shap >= 0.52 needs Python 3.12+: use $(PYTHON) if given, else the first
# python3.13 / python3.12 that runs, else one installed by pyenv.
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= $(shell for p in python3.13 python3.12 \
              $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
              $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
          done)
STAMP  := $(VENV)/.installed

TOOLS  := swaks openssl

.PHONY: run test stress bench docs-images tools clean

run: $(STAMP)
	$(BIN)/predbot serve

test: $(STAMP) tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long adversarial and load runs; each prints what it measured (also kept in var/stress.jsonl).
stress: $(STAMP) tools
	$(BIN)/python -m pytest -m stress -p no:cacheprovider -s $(PYTEST_ARGS)

# The mail tests drive the server with swaks and make a TLS certificate with openssl; the store's tests start
# their own PostgreSQL server, whose programs Debian keeps off PATH, in /usr/lib/postgresql/<version>/bin.
tools:
	@missing=$$(for t in $(TOOLS); do command -v $$t >/dev/null || echo $$t; done; \
	    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || echo postgresql); \
	if [ -n "$$missing" ]; then \
	    echo "installing" $$missing "(Debian packages)"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq && \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

bench: $(STAMP)
	$(BIN)/python -m bench

# The README's charts, drawn by predbot from the demo models (bench/docs_images.py).
docs-images: $(STAMP)
	$(BIN)/python -m bench.docs_images docs/images

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "predbot needs Python 3.12 or newer (python3.12, or pyenv install 3.12)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
