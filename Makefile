# CREW MRV. Two commands matter:
#   make run    build the site and serve it at http://127.0.0.1:8080
#   make test   every check CI runs
# Both run .ci/setup first, which installs only what is missing.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

HOST ?= 127.0.0.1
PORT ?= 8080

# npm's binaryen first: Trunk looks wasm-opt up on PATH, and Debian's
# /usr/bin/wasm-opt is too old for current wasm-bindgen output.
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Trunk must never download tools or check for updates.
export TRUNK_OFFLINE := true
export TRUNK_SKIP_VERSION_CHECK := true

.PHONY: help setup web dist run test lint unit independent spreadsheet browser-test bench bench-venv fuzz-smoke fuzz

help:
	@echo "make run    build the site and serve it at http://$(HOST):$(PORT)"
	@echo "make test   fmt, clippy (native + wasm32), cargo test, fuzz smoke run, release build, browser tests"
	@echo "make setup  install missing tools only (.ci/setup)"
	@echo "make web    build dist/ only"
	@echo "make bench  native and browser benchmarks (sample set and a generated year), SQL, Parquet and a PostgreSQL load"
	@echo "make fuzz   fuzz every target for FUZZ_SECONDS each (default 600)"

setup:
	@.ci/setup

web: setup
	@$(MAKE) --no-print-directory dist

# Trunk builds with `cargo --offline`, so fetch the crates first; this is
# a no-op once they are cached. The three WebAssembly builds are Trunk's
# own cargo calls (index.html), run first so that a compiler error ends the
# log as cargo printed it rather than under Trunk's backtraces; Trunk then
# finds them done.
# A build that fails is tried once more on one job and allowed to fetch
# (a compiler killed for memory, or a crate the fetch above missed, then
# passes; a real error fails again, as cargo printed it). This list
# repeats index.html's rust links (tests/browser/builds.test.mjs holds
# them equal): a build left out here would be only Trunk's again.
WASM_BUILDS := Cargo.toml:wasm-release:app \
	crates/worker/Cargo.toml:wasm-worker:worker \
	crates/evidence-worker/Cargo.toml:wasm-worker:evidence
dist:
	cargo fetch --quiet
	for b in $(WASM_BUILDS); do \
	  IFS=: read -r manifest profile bin <<< "$$b"; \
	  args=(--target=wasm32-unknown-unknown --manifest-path "$$manifest" --profile "$$profile" --bin "$$bin"); \
	  cargo build --offline "$${args[@]}" || { \
	    echo "dist: the $$bin build failed; disk and memory left:" >&2; df -h . >&2; free -m >&2; \
	    cargo build -j 1 "$${args[@]}"; }; \
	done
	trunk build --release

run: web
	node .ci/serve.mjs --root dist --host $(HOST) --port $(PORT)

# The core is also built alone, natively and for wasm32, so nothing the
# other crates enable (features, dev-dependencies) hides a dependency it
# must not have.
lint:
	cargo fmt --all --check
	cargo clippy -p crew-mrv-core -- -D warnings
	cargo clippy -p crew-mrv-core --target wasm32-unknown-unknown -- -D warnings
	cargo clippy --all-targets -- -D warnings
	cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test

browser-test:
	node --test tests/browser/

# Every sample workbook round-tripped through LibreOffice (.xlsx and .xls)
# reads the same as the original (tests/spreadsheet.rs; needs soffice).
spreadsheet:
	cargo test --quiet --test tests spreadsheet -- --ignored

# The golden values' independent implementation (tests/independent/method.py,
# Python stdlib) against the CLI's outputs on data/ under both policies and
# against the literals in tests/golden.rs.
independent:
	cargo build --quiet --bin crew-mrv
	tmp="$$(mktemp -d)"; trap 'rm -rf "$$tmp"' EXIT; \
	./target/debug/crew-mrv run -q --out "$$tmp/mean" data; \
	./target/debug/crew-mrv run -q --replicate-policy first --out "$$tmp/first" data; \
	python3 tests/independent/method.py data "$$tmp/mean" "$$tmp/first" tests/golden.rs

# Fuzzing (fuzz/, its own cargo project). The smoke run gives each target a
# fixed number of inputs (a few seconds) from the seed corpora and random
# seed 1, the same run every time: any panic, abort, timeout or oversized
# allocation fails the build. `make fuzz` is the long run.
FUZZ_SECONDS ?= 600

fuzz-smoke:
	SEEDS_ONLY=1 fuzz/run.sh smoke

fuzz: setup
	fuzz/run.sh $(FUZZ_SECONDS)

# The steps below `setup` assume the tools are installed; `test` is the
# entry point.
test: setup
	@$(MAKE) --no-print-directory lint unit independent spreadsheet fuzz-smoke dist browser-test

# Benchmarks (not part of `make test`): the native core and the browser,
# on the sample set and on a generated year (8 minute-cadence pH sensors,
# a year of workbooks; ~370 MB, generated once into target/, never
# committed), and the whole `crew-mrv run` process at 1, 2 and all
# threads beside pandas reading the same files. Prints Markdown table rows
# for README.md.
BENCH_YEAR := target/bench-data/year
# pandas for the reference rows, in a venv of its own (Debian's Python
# refuses system-wide pip installs), made again only when the pins change.
BENCH_VENV := target/bench-venv
BENCH_PY_PINS := pandas==2.2.3 openpyxl==3.1.5 xlrd==2.0.1

bench-venv:
	@if [ "$$(cat $(BENCH_VENV)/pins 2>/dev/null)" != "$(BENCH_PY_PINS)" ]; then \
	  python3 -m venv $(BENCH_VENV) && \
	  $(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check $(BENCH_PY_PINS) && \
	  echo "$(BENCH_PY_PINS)" > $(BENCH_VENV)/pins; \
	fi

bench: setup bench-venv
	cargo build --release --quiet -p crew-mrv-cli --bin crew-mrv --example bench
	@test -f $(BENCH_YEAR)/manifest.json || ./target/release/crew-mrv sample --year --out $(BENCH_YEAR)
	@$(MAKE) --no-print-directory dist
	@echo "| where | set | files | MB | time | throughput | rows | memory | notes |"
	@echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	@BENCH_PYTHON=$(BENCH_VENV)/bin/python ./target/release/examples/bench data sample
	@BENCH_PYTHON=$(BENCH_VENV)/bin/python ./target/release/examples/bench $(BENCH_YEAR) year
	@node tests/browser/bench.mjs data sample $(BENCH_YEAR) year
