# The two commands: `make run` (the product on the embedded default, with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml constraints.txt 2>/dev/null | cksum | cut -d' ' -f1)
PORT ?= 8000
# The demo sends its SMS through the real Tencent client to a local fake gateway (its inbox is the
# handset); SMS_CHANNEL=dev make run uses the console channel instead.
SMS_CHANNEL ?= tencent
SMS_GATEWAY_PORT ?= $(shell echo $$(( $(PORT) + 10 )))

ifeq ($(CI),true)
# CI uses the machine's PostgreSQL and Redis servers instead of SQLite + an embedded redis-server.
export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
endif

.PHONY: install run test test-pg lint bench bench-chat bench-rest clean

$(STAMP): pyproject.toml constraints.txt
	scripts/pcsc.sh packages  # pyscard builds against libpcsclite-dev (as root: installs what is missing)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install
	$(BIN)/python -m backend migrate
	$(BIN)/python -m backend demo seed --scale small --if-empty
	$(BIN)/python -m backend demo accounts
	@echo "API on http://127.0.0.1:$(PORT)  (OpenAPI at /docs)"
	@echo "SMS inbox of the fake gateway on http://127.0.0.1:$(SMS_GATEWAY_PORT)/  (or /inbox?phone=...)"
	@echo "Fake WeChat API on http://127.0.0.1:$$(( $(PORT) + 20 ))/  (wx.login and phone-number codes for the demo)"
	$(BIN)/python -m backend.fakes.sms_gateway --port $(SMS_GATEWAY_PORT) \
		--state-file "$${VAR_DIR:-var}/sms-gateway.json" & gateway=$$!; \
	wechat_port=$$(( $(PORT) + 20 )); \
	$(BIN)/python -m backend.fakes.wechat_api --port $$wechat_port & wechat=$$!; \
	if [ "$(CARD)" = 1 ]; then $(MAKE) --no-print-directory card & card=$$!; fi; \
	trap 'kill $$gateway $$wechat $${card:-} 2>/dev/null' EXIT INT TERM; \
	SMS_CHANNEL=$(SMS_CHANNEL) TENCENT_SMS_ENDPOINT=127.0.0.1:$(SMS_GATEWAY_PORT) TENCENT_SMS_PROTOCOL=http \
		WECHAT_API_BASE=http://127.0.0.1:$$wechat_port/ \
		$(BIN)/python -m backend serve --port $(PORT) --worker

# The card service against the backend of `make run` (start that first, in another terminal, or
# run both at once with `make run CARD=1`), with
# the demo co-op's software PIV card in the virtual reader (pcscd + vpcd), so pairing can be tried
# without hardware. CARD_KIND=operator for an operator's card; no screen: scripts/xvfb.sh + Xvfb.
CARD_KIND ?= legal_rep
.PHONY: card
card: install
	scripts/pcsc.sh
	@args=$$($(BIN)/python -m backend demo card --kind $(CARD_KIND)) || exit 1; \
	eval "set -- $$args"; \
	$(BIN)/python -m card_service.fakes.soft_piv "$$@" & soft_card=$$!; \
	trap 'kill $$soft_card 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python -m card_service --backend http://127.0.0.1:$(PORT) \
		--home "$${VAR_DIR:-var}/card-service" --reader "Virtual PCD 00 00"

test: test-miniprogram test-python

# ruff and the Python suite (what `make test` runs after the mini-program's tests).
.PHONY: test-python
test-python: install
	$(BIN)/ruff check .
	@# pcscd with the vpcd reader for tests/card; without CI those tests skip if it cannot start
	scripts/pcsc.sh || [ "$(CI)" != true ]
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The mini-program (miniprogram/): npm packages from its lock file (no install scripts), jest unit
# and component tests (WeChat's template compiler), the main-package size check (500 KB), and the
# integration test against a backend started like `make run` in a temporary VAR_DIR.
.PHONY: test-miniprogram
test-miniprogram: install
	cd miniprogram && npm ci --ignore-scripts --no-audit --no-fund && npm test && npm run test:integration

# The same suite against the local PostgreSQL and Redis servers (what CI does).
test-pg:
	$(MAKE) test CI=true

bench: install
	$(BIN)/python bench/login_and_scope.py
bench-chat: install
	$(BIN)/python bench/chat.py
bench-rest: install
	$(BIN)/python bench/rest.py

clean:
	rm -rf $(VENV) var .pytest_cache
