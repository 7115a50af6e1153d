#!/usr/bin/env bash
# The long fuzz run: each proptest target of tests/fuzz.rs is run for MINUTES minutes (default 10)
# as a loop of invocations with increasing seeds, JOBS targets at a time (default 2). Prints the
# number of generated cases ("runs") per target; exits non-zero if any target failed (its log is
# kept in target/fuzz-long/<target>.log and the failing seed in tests/fuzz/regressions/).
#
#   scripts/fuzz-long.sh                 # every target, 10 minutes each, 2 at a time
#   MINUTES=1 JOBS=4 scripts/fuzz-long.sh fuzz_trailer fuzz_settings
#
# Environment: MINUTES, JOBS, CASES (cases per invocation, default 500), SEED0 (first seed),
# OUT (log folder, default target/fuzz-long).
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${MINUTES:-10}
JOBS=${JOBS:-2}
CASES=${CASES:-500}
SEED0=${SEED0:-1000}
ALL=(fuzz_agents fuzz_compact fuzz_chunk fuzz_trailer fuzz_settings fuzz_redaction
     fuzz_redaction_planted_secret fuzz_gojson)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi

# Debug build on purpose: overflow checks and debug assertions are part of what is fuzzed.
bin=$(cargo test --test fuzz --no-run 2>&1 | sed -n 's/.*Executable tests\/fuzz.rs (\(.*\))$/\1/p' | tail -1)
[ -x "$bin" ] || { echo "error: cannot build or find the fuzz test binary" >&2; exit 1; }
out=${OUT:-target/fuzz-long}
mkdir -p "$out"
# A private copy: other builds may relink the original while the loop runs.
cp "$bin" "$out/fuzz-bin"
bin=$out/fuzz-bin

run_target() {
  local t=$1 seed=$SEED0 runs=0 calls=0 start end now
  start=$(date +%s)
  end=$((start + MINUTES * 60))
  : >"$out/$t.log"
  while now=$(date +%s); [ "$now" -lt "$end" ]; do
    if ! GIT_ATTACH_FUZZ_CASES=$CASES GIT_ATTACH_FUZZ_SEED=$seed \
      timeout 600 "$bin" --exact "$t" --test-threads 1 >>"$out/$t.log" 2>&1; then
      echo "$t: FAILED at seed $seed after $runs runs ($(( ($(date +%s) - start) )) s); see $out/$t.log"
      echo "$t failed" >"$out/$t.status"
      return 1
    fi
    runs=$((runs + CASES))
    calls=$((calls + 1))
    seed=$((seed + 1))
  done
  echo "$t: $runs runs in $(( ($(date +%s) - start) )) s ($calls invocations, seeds $SEED0..$((seed - 1))), no failure"
  echo "$t ok $runs" >"$out/$t.status"
}

echo "fuzzing ${#TARGETS[@]} targets for $MINUTES min each, $JOBS at a time, $CASES cases per invocation"
fail=0
running=0
for t in "${TARGETS[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || fail=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || fail=1
  running=$((running - 1))
done
exit $fail
