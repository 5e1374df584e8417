#!/usr/bin/env bash
# clew's ClickHouse side of the benchmarks: starts Debian's clickhouse-server
# as a child on 127.0.0.1 with a config and data directory of its own (never
# the system-wide instance), creates the span tables of
# bench/clickhouse/schema.sql, loads the same span record file clew was
# loaded with (bench/ch_load), and measures load rate, bytes per span,
# trace-by-id latency over the same ids, and each query of
# bench/clickhouse/queries.tsv. Prints "key value ..." result lines on stdout;
# stops the server by its pid and removes the directory at the end.
#
#   bash bench/clickhouse.sh --file SPANS --ids IDS --params PARAMS [--runs 5]
#   bash bench/clickhouse.sh --print-queries PARAMS
#   bash bench/clickhouse.sh --file FIFO --ids IDS --no-queries   (load + trace by id only)
# PARAMS holds the file_spans and data_ lines bench/trace_by_id printed for
# SPANS; --print-queries prints the query set filled in from them (name,
# kind, TraceQL, SQL; tab-separated) and exits.
set -euo pipefail
cd "$(dirname "$0")/.."

FILE= IDS= PARAMS= RUNS=5 BIN=${CLEW_BENCH_BIN:-build/release/bench} PRINT= QUERIES=1
while (($#)); do
	case "$1" in
	--file) FILE=$2; shift 2 ;;
	--ids) IDS=$2; shift 2 ;;
	--params) PARAMS=$2; shift 2 ;;
	--print-queries) PARAMS=$2; PRINT=1; shift 2 ;;
	--runs) RUNS=$2; shift 2 ;;
	--no-queries) QUERIES=; shift ;;
	*) echo "clickhouse.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

# the value after KEY in the PARAMS file
param() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' "$PARAMS"; }

# the query set of bench/clickhouse/queries.tsv, filled in from PARAMS
print_queries() {
	local start_s end_s name kind traceql q v
	start_s=$(param window_start_unix_s)
	end_s=$(param window_end_unix_s)
	local -A sub=([start_ns]=$((start_s * 1000000000)) [end_ns]=$((end_s * 1000000000))
		[step_ns]=$(((end_s - start_s) * 1000000000)) [service]=$(param top_service)
		[slow_ms]=$(param slow_ms) [status_attr]=$(param status_attr)
		[customer_attr]=$(param customer_attr) [customer]=$(param customer))
	grep -v '^#' bench/clickhouse/queries.tsv | while IFS=$'\t' read -r name kind traceql q; do
		for v in "${!sub[@]}"; do
			traceql=${traceql//\{$v\}/${sub[$v]}}
			q=${q//\{$v\}/${sub[$v]}}
		done
		printf '%s\t%s\t%s\t%s\n' "$name" "$kind" "$traceql" "$q"
	done
}

{ [ -z "$QUERIES" ] && [ -z "$PRINT" ]; } || { [ -n "$PARAMS" ] && [ -f "$PARAMS" ]; } || { echo "usage: bench/clickhouse.sh --file F --ids IDS --params PARAMS [--runs N] | --print-queries PARAMS" >&2; exit 2; }
if [ -n "$PRINT" ]; then
	print_queries
	exit 0
fi
[ -n "$FILE" ] && [ -n "$IDS" ] || { echo "clickhouse.sh: --file and --ids are needed" >&2; exit 2; }
if ! command -v clickhouse-server >/dev/null; then
	# Debian's package; RUNLEVEL=1 keeps its service from being started: the
	# suite runs a private server of its own below.
	echo "clickhouse.sh: installing Debian's clickhouse-server" >&2
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		clickhouse-server clickhouse-client >/dev/null ||
		{ echo "clickhouse.sh: could not install clickhouse-server" >&2; exit 3; }
fi

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		(: </dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
	done
}

DIR=$(mktemp -d /tmp/clew-bench-clickhouse.XXXXXX)
HTTP_PORT=$(free_port)
TCP_PORT=$(free_port)
[ "$TCP_PORT" != "$HTTP_PORT" ] || TCP_PORT=$((HTTP_PORT + 1))
URL="http://127.0.0.1:$HTTP_PORT/"
mkdir -p "$DIR/log" "$DIR/data" "$DIR/tmp" "$DIR/user_files" "$DIR/format_schemas"
sed -e "s#@DIR@#$DIR#g" -e "s/@HTTP_PORT@/$HTTP_PORT/" -e "s/@TCP_PORT@/$TCP_PORT/" \
	bench/clickhouse/config.xml.in >"$DIR/config.xml"
cp bench/clickhouse/users.xml "$DIR/users.xml"

PID=
cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill "$PID"
		for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$PID" 2>/dev/null && kill -9 "$PID"
		wait "$PID" 2>/dev/null || true
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT

clickhouse-server --config-file="$DIR/config.xml" >"$DIR/log/stdout" 2>&1 &
PID=$!
for _ in $(seq 300); do
	curl -sf "${URL}?query=SELECT%201" >/dev/null 2>&1 && break
	kill -0 "$PID" 2>/dev/null || { echo "clickhouse.sh: clickhouse-server exited:" >&2; tail -5 "$DIR/log/"*.log >&2; exit 1; }
	sleep 0.1
done

sql() { curl -sS --fail-with-body "$URL" --data-binary "$1"; }
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$PID/stat"; }
# "median M min A max B runs N" of the numbers on stdin
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "median %s min %s max %s runs %d", v[int((NR + 1) / 2)], v[1], v[NR], NR }'; }

echo "ch_version $(sql 'SELECT version()')"
clickhouse-client --host 127.0.0.1 --port "$TCP_PORT" --multiquery <bench/clickhouse/schema.sql

# load, then let the background merges finish: their CPU counts too
cpu0=$(cpu_s)
t0=$(date +%s.%N)
"$BIN/ch_load" --file "$FILE" --url "$URL" --pid "$PID"
for _ in $(seq 600); do
	[ "$(sql 'SELECT count() FROM system.merges')" = 0 ] && break
	sleep 0.5
done
sleep 2
cpu1=$(cpu_s)
t1=$(date +%s.%N)
rows=$(sql "SELECT count() FROM spans")
echo "ch_rows $rows"
awk -v n="$rows" -v c0="$cpu0" -v c1="$cpu1" -v t0="$t0" -v t1="$t1" 'BEGIN {
	printf "ch_load_with_merges_spans_per_cpu_sec %.0f server_cpu_s %.2f wall_s %.2f\n", n / (c1 - c0), c1 - c0, t1 - t0 }'
echo "ch_server_rss_bytes end $(awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$PID/status") peak $(awk '/^VmHWM/ { print $2 * 1024 }' "/proc/$PID/status")"

# bytes per span, per table and together
sql "SELECT table, sum(bytes_on_disk), sum(rows), sum(data_uncompressed_bytes), count() FROM system.parts
     WHERE active AND database = 'default' GROUP BY table ORDER BY table FORMAT TabSeparated" |
	while read -r table bytes n raw parts; do
		awk -v t="$table" -v b="$bytes" -v n="$n" -v r="$raw" -v p="$parts" 'BEGIN {
			printf "ch_bytes_per_span_%s %.1f bytes %.0f rows %.0f uncompressed_per_span %.1f parts %d\n", t, b / n, b, n, r / n, p }'
	done
echo "ch_data_dir_bytes_per_span $(du -sb "$DIR/data" | awk -v n="$rows" '{ printf "%.1f", $1 / n }')"

# trace by id: the same ids clew answered, whole spans from spans_by_trace
"$BIN/trace_by_id" query --ids "$IDS" --clickhouse "$URL" \
	--sql "SELECT resource, span FROM spans_by_trace WHERE trace_id = unhex('{id}') FORMAT RowBinary" --runs "$RUNS" |
	sed 's/^/ch_/'

# the fixed query set
[ -n "$QUERIES" ] || exit 0
print_queries | while IFS=$'\t' read -r name kind traceql q; do
	out_rows=$(sql "$q FORMAT TabSeparated" | wc -l)
	for _ in $(seq "$RUNS"); do
		curl -sS --fail-with-body -o /dev/null -w '%{time_total}\n' "$URL" --data-binary "$q FORMAT TabSeparated"
	done | awk '{ print $1 * 1000 }' | stats | sed "s/^/ch_query_${name}_ms /; s/\$/ result_rows $out_rows\n/"
done
