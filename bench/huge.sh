#!/usr/bin/env bash
# The large-store benchmark: loads N spans (default 100M) of `clew gen`
# traffic into one clew, streaming (no span file of that size), and reports
# server memory and disk at 1M, 10M, N/2 and N spans, the load rate per
# server CPU-second, and trace-by-id latency (p50, p99) for ids sampled from
# the oldest data (compacted blocks) at each checkpoint.
#
#   bash bench/huge.sh [--spans 100000000] [--dir /tmp/clew-huge]
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS=100000000 DIR=/tmp/clew-huge
while [ $# -gt 0 ]; do
	case "$1" in
	--spans) SPANS=$2; shift 2 ;;
	--dir) DIR=$2; shift 2 ;;
	*) echo "huge.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
make -s -j"$(nproc)" BUILD=release build/release/clew build/release/bench/trace_by_id
CLEW=build/release/clew
rm -rf "$DIR" && mkdir -p "$DIR"
START=2026-01-01T00:00:00Z

$CLEW serve --data-dir "$DIR/data" --wal-sync none --retention 0 --memory-limit 8G \
	--http 127.0.0.1:0 --otlp-grpc 127.0.0.1:0 --otlp-http 127.0.0.1:0 --zipkin 127.0.0.1:0 2>"$DIR/serve.log" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null' EXIT
for _ in $(seq 1 100); do grep -q " ready" "$DIR/serve.log" && break; sleep 0.1; done
HTTP=$(sed -n 's/.*listening: http 127.0.0.1:\([0-9]*\).*/\1/p' "$DIR/serve.log")
OTLP=$(sed -n 's/.*listening: otlp-http 127.0.0.1:\([0-9]*\).*/\1/p' "$DIR/serve.log")

metric() { curl -s "http://127.0.0.1:$HTTP/metrics" | awk -v n="$1" '$1 == n {print $2}'; }
cpu() { awk '{print ($14 + $15) / '"$(getconf CLK_TCK)"'}' "/proc/$PID/stat"; }
rss() { awk '/^VmRSS/ {print $2 * 1024}' "/proc/$PID/status"; }
hwm() { awk '/^VmHWM/ {print $2 * 1024}' "/proc/$PID/status"; }

# 200,000 spans from a file first: their ids are known and end up oldest
$CLEW gen --out "$DIR/probe.otlp" --spans 200000 --seed 999 --start "$START" --rate max 2>/dev/null
build/release/bench/trace_by_id load --file "$DIR/probe.otlp" --url "http://127.0.0.1:$OTLP/v1/traces" \
	--pid $PID --ids-out "$DIR/ids.txt" --n-ids 1000 >/dev/null

loaded=200000 seed=1 cpu0=$(cpu)
query_cpu=0
checkpoint() {
	while [ "$(metric clew_head_sealed)" != 0 ]; do sleep 0.5; done
	local q c0 load_cpu
	c0=$(cpu)
	load_cpu=$(awk -v a="$c0" -v b="$cpu0" -v q="$query_cpu" 'BEGIN {print a - b - q}')
	q=$(build/release/bench/trace_by_id query --ids "$DIR/ids.txt" \
		--url-prefix "http://127.0.0.1:$HTTP/api/v1/traces/" --runs 3 2>/dev/null | tr '\n' ' ')
	query_cpu=$(awk -v q="$query_cpu" -v a="$(cpu)" -v b="$c0" 'BEGIN {print q + a - b}')
	printf 'spans %s rss_bytes %s rss_peak_bytes %s head_bytes %s blocks %s block_bytes %s disk_bytes %s load_cpu_s %.1f | %s\n' \
		"$loaded" "$(rss)" "$(hwm)" "$(metric clew_head_bytes)" "$(metric clew_blocks)" \
		"$(metric clew_block_bytes)" "$(du -sb "$DIR/data" | cut -f1)" "$load_cpu" "$q"
}
prev=0
for target in 1000000 10000000 $((SPANS / 2)) "$SPANS"; do
	[ "$target" -le "$SPANS" ] && [ "$target" -gt "$prev" ] || continue
	prev=$target
	while [ "$loaded" -lt "$target" ]; do
		n=$((target - loaded)); [ "$n" -gt 10000000 ] && n=10000000
		$CLEW gen --target "http://127.0.0.1:$OTLP" --rate max --spans "$n" --seed "$seed" \
			--start "$START" --concurrency 8 2>/dev/null
		loaded=$((loaded + n)); seed=$((seed + 1))
	done
	checkpoint
done
awk -v n="$((loaded - 200000))" -v a="$(cpu)" -v b="$cpu0" -v q="$query_cpu" \
	'BEGIN {printf "load_spans_per_server_cpu_s %.0f (flushes and compaction included, queries not)\n", n / (a - b - q)}'
