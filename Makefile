# telecare — `make run` to try it, `make test` to check it. Both start from nothing but Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
MODEL  := conversations/redflags/model.json

.PHONY: install run test bench eval-redflags redflag-model lint format clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "telecare needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,model]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP) $(MODEL)

# The red-flag model's weights, trained from the development part of the evaluation set (never
# the test part); not committed, rebuilt when the set or the code that reads it changes.
$(MODEL): $(STAMP) eval/redflags/dev.csv conversations/redflags/train.py conversations/redflags/model.py conversations/textnorm.py
	$(BIN)/python -m conversations.redflags.train

redflag-model: $(MODEL)

# Local development: key file (0600), migrations, demo data (idempotent), then serve on SQLite in var/
# (0700, also when an older version made it wider; the database files in it are 0600).
run: $(STAMP) $(MODEL)
	mkdir -p var && chmod 700 var
	$(BIN)/telecare keys init
	$(BIN)/telecare migrate
	$(BIN)/telecare demo-data
	$(BIN)/telecare serve

test: $(STAMP) $(MODEL)
	$(BIN)/python -m pytest

bench: $(STAMP) $(MODEL)
	$(BIN)/python bench/engine_throughput.py
	$(BIN)/python bench/telegram_load.py --database both $${TELECARE_BENCH_POSTGRES_URL:+--postgres-url "$$TELECARE_BENCH_POSTGRES_URL"}
	$(BIN)/python bench/dispatch.py $${TELECARE_BENCH_POSTGRES_URL:+--postgres-url "$$TELECARE_BENCH_POSTGRES_URL"}
	$(BIN)/python bench/redflags.py

# Recall and false alarms of the emergency red-flag matcher on the held-out test part (docs/safety.md).
eval-redflags: $(STAMP) $(MODEL)
	$(BIN)/python eval/redflags.py --part test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
