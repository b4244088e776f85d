#!/usr/bin/env bash
# Run every fuzz target (or those named) for SECONDS each, one after the
# other, from the seed corpora cut from data/. Stops at the first finding
# (libFuzzer writes it to fuzz/artifacts/<target>/ and exits non-zero).
#
#   fuzz/run.sh SECONDS [TARGET...]
#   fuzz/run.sh smoke [TARGET...]
#
# `smoke` (the smoke run of `make test`, so of CI) gives each target a fixed
# number of inputs from random seed 1 rather than a time: the same run
# every time on any machine, so a clean clone in CI runs the mutations a
# session ran before it submitted, and cannot fail on one it never tried.
#
# With SEEDS_ONLY=1 each target starts from the seeds alone, in a scratch
# directory, so a short run does not first replay a corpus grown by long
# runs (the smoke run in `make test`).
#
# cargo-fuzz needs unstable compiler flags; the stable toolchain accepts
# them with RUSTC_BOOTSTRAP=1. AddressSanitizer is what lets libFuzzer
# catch a single oversized allocation (-malloc_limit_mb) as a finding.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
budget="${1:?usage: fuzz/run.sh SECONDS|smoke [TARGET...]}"
shift
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  targets=(lab_csv ph_csv plant_a_xls plant_a_xlsx plant_b_xlsx pipeline xlsx_parts xls_parts profile)
fi

export RUSTC_BOOTSTRAP=1
python3 make-seeds.py
# -O: the release profile of fuzz/Cargo.toml decides on debug assertions
# and overflow checks (on for our code, off for calamine's wrapping
# arithmetic), not cargo-fuzz's blanket flags.
flags=(-O --sanitizer address)
cargo fuzz build "${flags[@]}" 2>&1 | tail -n 1

total=0
log="$(mktemp)"
# Small inputs run fast and are where the structure is; workbooks need room
# for a sheet's XML or a Workbook stream.
max_len() {
  case "$1" in
    lab_csv | ph_csv) echo 4096 ;;
    profile) echo 16384 ;;
    # A description read with `arbitrary`: a few hundred bytes describe
    # megabytes of workbook.
    xlsx_parts | xls_parts) echo 512 ;;
    plant_a_xls | pipeline) echo 32768 ;;
    *) echo 65536 ;;
  esac
}

# The smoke run's inputs per target: about four seconds each here.
smoke_runs() {
  case "$1" in
    xlsx_parts) echo 30 ;;
    xls_parts) echo 60 ;;
    pipeline) echo 200 ;;
    lab_csv | plant_a_xlsx | plant_b_xlsx) echo 400 ;;
    ph_csv) echo 500 ;;
    *) echo 800 ;;
  esac
}

scratch="$(mktemp -d)"
trap 'rm -rf "$log" "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  corpus="corpus/$t"
  if [ "${SEEDS_ONLY:-0}" = 1 ]; then
    corpus="$scratch/$t"
    mkdir -p "$corpus"
    cp "corpus/$t"/seed-* "$corpus"/
  fi
  if [ "$budget" = smoke ]; then
    limit=(-runs="$(smoke_runs "$t")" -seed=1)
  else
    limit=(-max_total_time="$budget")
  fi
  if ! cargo fuzz run "${flags[@]}" "$t" "$corpus" -- \
      "${limit[@]}" -timeout=10 -rss_limit_mb=2560 \
      -malloc_limit_mb=1024 -max_len="$(max_len "$t")" -print_final_stats=1 \
      -artifact_prefix="artifacts/$t/" >"$log" 2>&1; then
    grep -E "ERROR|panicked|SUMMARY|Test unit written" "$log" | head -n 20 >&2 || true
    echo "fuzz: $t found a problem; see fuzz/artifacts/$t/" >&2
    exit 1
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  runs="${runs:-0}"
  total=$((total + runs))
  case "$budget" in
    smoke) printf 'fuzz %-14s %9s runs from seed 1, no finding\n' "$t" "$runs" ;;
    *) printf 'fuzz %-14s %9s runs in %ss, no finding\n' "$t" "$runs" "$budget" ;;
  esac
done
printf 'fuzz %-14s %9s runs, no finding\n' "all" "$total"
