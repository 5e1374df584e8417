#!/usr/bin/env bash
# Builds clew and runs every test: unit tests and fuzz-corpus replays under
# ASan+UBSan, then the end-to-end suite (real OpenTelemetry SDK, Zipkin
# client, raw bad input, crash recovery) against the release binary and the
# sanitizer binary. Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh || { echo "deps: installation failed"; echo "0 passed, 1 failed"; exit 1; }

JOBS=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
declare -a failures=()

note() { printf '\n== %s\n' "$*"; }
count() { # count NAME PASSED FAILED
	passed=$((passed + $2))
	failed=$((failed + $3))
	if [ "$3" -gt 0 ]; then failures+=("$1: $3 failed"); fi
}

note "build (release, asan)"
if ! make -s -j"$JOBS" BUILD=release WERROR=1 build/release/clew; then
	echo "release build failed"; echo "0 passed, 1 failed"; exit 1
fi
if ! make -s -j"$JOBS" BUILD=asan WERROR=1 build/asan/clew build/asan/unit_tests; then
	echo "asan build failed"; echo "0 passed, 1 failed"; exit 1
fi
if ! make -s ui; then
	echo "web UI build failed"; echo "0 passed, 1 failed"; exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

note "source checks"
if bash scripts/checksrc.sh; then count checksrc 1 0; else count checksrc 0 1; fi

note "unit tests (asan)"
out=$(build/asan/unit_tests 2>&1)
echo "$out" | grep -v '^unit:' | tail -n 50
line=$(echo "$out" | grep -E '^unit: [0-9]+ passed, [0-9]+ failed' | tail -1)
if [ -n "$line" ]; then
	p=$(echo "$line" | sed -E 's/^unit: ([0-9]+) passed, ([0-9]+) failed.*/\1/')
	f=$(echo "$line" | sed -E 's/^unit: ([0-9]+) passed, ([0-9]+) failed.*/\2/')
	echo "$line"
	count unit "$p" "$f"
else
	echo "unit tests crashed"
	count unit 0 1
fi

note "web UI type check and unit tests"
if (cd ui && node_modules/.bin/tsc -p .); then count ui-typecheck 1 0; else count ui-typecheck 0 1; fi
out=$(cd ui && node build.mjs --tests && node --test --test-reporter=tap ../build/ui-test/ 2>&1)
echo "$out" | grep -E '^(not ok|# (tests|pass|fail))' | head -n 40
echo "$out" | grep -E -A 20 '^not ok' | head -n 80
p=$(echo "$out" | grep -E '^# pass [0-9]+' | tail -1 | awk '{print $3}')
f=$(echo "$out" | grep -E '^# fail [0-9]+' | tail -1 | awk '{print $3}')
if [ -z "$p" ]; then echo "web UI unit tests did not run"; p=0; f=1; fi
count ui-unit "$p" "${f:-0}"

note "fuzz corpus replay (asan)"
for src in fuzz/*.c; do
	name=$(basename "$src" .c)
	[ "$name" = replay_main ] && continue
	[ -d "fuzz/corpus/$name" ] || { echo "fuzz/$name: no corpus"; count "fuzz-$name" 0 1; continue; }
	if make -s -j"$JOBS" BUILD=asan WERROR=1 "build/asan/fuzz/replay_$name" &&
		"build/asan/fuzz/replay_$name" "fuzz/corpus/$name"; then
		count "fuzz-$name" 1 0
	else
		echo "fuzz/$name: FAILED"
		count "fuzz-$name" 0 1
	fi
done

run_e2e() { # run_e2e LABEL BINARY
	local label=$1 bin=$2 out line p f
	note "end-to-end tests ($label)"
	out=$(cd tests/e2e && CLEW_BIN="$PWD/../../$bin" node --test --test-concurrency=1 --test-force-exit --test-reporter=tap 2>&1)
	echo "$out" | grep -E '^(not ok|# (tests|pass|fail|skipped))' | head -n 60
	echo "$out" | grep -E -A 30 '^ *not ok' | head -n 160 # nested subtests too
	p=$(echo "$out" | grep -E '^# pass [0-9]+' | tail -1 | awk '{print $3}')
	f=$(echo "$out" | grep -E '^# fail [0-9]+' | tail -1 | awk '{print $3}')
	if [ -z "$p" ]; then echo "e2e ($label): runner did not finish"; p=0; f=1; fi
	count "e2e-$label" "$p" "${f:-0}"
}
if [ -d tests/e2e ] && ls tests/e2e/*.test.mjs >/dev/null 2>&1; then
	run_e2e release build/release/clew
	if [ "${CLEW_E2E_ASAN:-1}" = 1 ]; then
		CLEW_E2E_SANITIZER=1 run_e2e asan build/asan/clew
	fi
fi

note "summary"
for f in "${failures[@]+"${failures[@]}"}"; do echo "  $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
