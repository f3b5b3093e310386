#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in BUILD_DIR and runs each for a
# bounded time on a copy of its seed corpus. Exits non-zero if a fuzzer finds a crash.
#   fuzz/run_short.sh [BUILD_DIR] [SECONDS]      defaults: build/fuzz, 30
# Crash reproducers are written to BUILD_DIR/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/fuzz}
seconds=${2:-30}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DTIDEGATE_FUZZ=ON -DTIDEGATE_SANITIZE=ON \
  -DTIDEGATE_BENCH=OFF -DBUILD_TESTING=OFF -DTIDEGATE_CAF_PCH=OFF >/dev/null
cmake --build "$build" --target frame_decoder_fuzz token_fuzz record_decode_fuzz map_state_fuzz \
  dispatch_answer_fuzz

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

status=0
for target in frame_decoder_fuzz token_fuzz record_decode_fuzz map_state_fuzz \
    dispatch_answer_fuzz; do
  corpus=fuzz/corpus/${target%_fuzz}
  mkdir -p "$work/$target" "$build/artifacts/$target"
  if [[ -d $corpus ]]; then
    cp "$corpus"/* "$work/$target/"  # the fuzzer adds to its corpus: never the repository's
  fi
  echo "run_short: $target for ${seconds}s"
  if ! "$build/fuzz/$target" "$work/$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -timeout=10 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target/" \
      >"$work/$target.log" 2>&1; then
    tail -n 60 "$work/$target.log"
    echo "run_short: $target FAILED; reproducer in $build/artifacts/$target/" >&2
    status=1
  else
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov: ' "$work/$target.log" | tail -n 3
  fi
done
exit "$status"
