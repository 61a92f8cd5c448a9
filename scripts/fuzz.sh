#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ and runs each for $1 seconds (default 20) on a copy of
# its seed corpus. Fails if any target crashes. Linux only (libFuzzer ships with Swift there).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-20}
scratch=.build-fuzz
swift build -c release --sanitize=fuzzer --scratch-path "$scratch" 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || {
  echo "fuzz build failed"; exit 1; }
bin=$(swift build -c release --sanitize=fuzzer --scratch-path "$scratch" --show-bin-path)
mkdir -p "$scratch/artifacts"
for pair in FuzzManifest:manifest FuzzReference:reference FuzzContentRange:contentrange; do
  target=${pair%%:*}
  corpus=${pair##*:}
  work="$scratch/corpus/$corpus"
  mkdir -p "$work"
  echo "== $target for ${seconds}s"
  "$bin/$target" "$work" "corpus/$corpus" -dict="dict/$corpus.dict" -max_total_time="$seconds" -max_len=65536 \
    -artifact_prefix="$scratch/artifacts/$target-" -print_final_stats=1 2>&1 \
    | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss|==[0-9]+==|SUMMARY|.*Fatal error|.*crash)' || true
  if ls "$scratch/artifacts/$target-"* >/dev/null 2>&1; then
    echo "$target crashed: $(ls "$scratch/artifacts/$target-"*)"
    exit 1
  fi
done
