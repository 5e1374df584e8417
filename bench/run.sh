#!/usr/bin/env bash
# clew's benchmark suite: builds the release binaries, runs every benchmark
# (ingest per protocol, generator cost, ingest to queryable, trace by id and
# disk bytes per span at growing store sizes, the fixed TraceQL query set,
# server memory), loads the same spans into a private ClickHouse for the
# side-by-side figures (bench/clickhouse.sh), and rewrites docs/benchmarks.md
# below its "<!-- generated below -->" line with the date, the machine, each
# figure with the command that produced it, and the clew vs ClickHouse table.
#
#   bash bench/run.sh [--quick]      (--quick: small sizes, a smoke test)
# Benchmarks are never part of the test command.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK=0
case "${1:-}" in
--quick) QUICK=1 ;;
"") ;;
*) echo "usage: bash bench/run.sh [--quick]" >&2; exit 2 ;;
esac
if ((QUICK)); then
	SIZES=(200000) INGEST_ARGS=(--seconds 2 --runs 3) Q_ARGS=(--batches 100 --runs 3)
	RUNS=3 GEN_SPANS=500000
else
	SIZES=(1000000 10000000) INGEST_ARGS=(--seconds 8 --runs 5) Q_ARGS=(--batches 300 --runs 5)
	RUNS=5 GEN_SPANS=5000000
fi
SEED=1
GEN_START=2026-01-01T00:00:00Z
CLEW=build/release/clew
BIN=build/release/bench
DOC=docs/benchmarks.md
MARKER='<!-- generated below -->'

WORK=$(mktemp -d /tmp/clew-bench-run.XXXXXX)
R=$WORK/results   # "key value ..." lines from every benchmark
C=$WORK/commands  # "key<TAB>command" for each key
touch "$R" "$C"
CLEW_PID=
cleanup() {
	stop_clew
	rm -rf "$WORK"
}
trap cleanup EXIT

log() { echo "bench: $*" >&2; }

# Run a benchmark command; its "key ..." output lines go to the results with
# PREFIX in front of the key, and the command is remembered for each key.
run() {
	local prefix=$1
	shift
	log "$*"
	local out=$WORK/out.$RANDOM rc=0
	"$@" >"$out" || rc=$?
	((rc == 0)) || log "exit status $rc (figures kept, failures are in them): $*"
	sed "s/^/$prefix/" "$out" | tee -a "$R" >&2
	awk -v p="$prefix" -v c="$*" '{ printf "%s%s\t%s\n", p, $1, c }' "$out" >>"$C"
}

# Record a result line and the command (or explanation) behind it.
put() {
	local key=$1 cmd=$2
	shift 2
	echo "$key $*" | tee -a "$R" >&2
	printf '%s\t%s\n' "$key" "$cmd" >>"$C"
}

# The value after FIELD on the result line KEY (FIELD "" = first value).
get() {
	awk -v k="$1" -v f="${2:-}" '$1 == k { if (f == "") { print $2; exit }
		for (i = 2; i < NF; i++) if ($i == f) { print $(i + 1); exit } }' "$R"
}

start_clew() { # wal sync policy; sets CLEW_PID HTTP_PORT OTLP_PORT CLEW_DATA
	CLEW_DATA=$WORK/clew-data
	rm -rf "$CLEW_DATA"
	"$CLEW" serve --data-dir "$CLEW_DATA" --http 127.0.0.1:0 --otlp-grpc 127.0.0.1:0 --otlp-http 127.0.0.1:0 \
		--zipkin 127.0.0.1:0 --wal-sync "$1" --memory-limit 16G "${RETENTION[@]}" 2>"$WORK/clew.log" &
	CLEW_PID=$!
	for _ in $(seq 200); do
		grep -q 'info ready' "$WORK/clew.log" && break
		kill -0 "$CLEW_PID" 2>/dev/null || { cat "$WORK/clew.log" >&2; exit 1; }
		sleep 0.05
	done
	HTTP_PORT=$(sed -n 's/.*listening: http [0-9.]*:\([0-9]*\).*/\1/p' "$WORK/clew.log")
	OTLP_PORT=$(sed -n 's/.*listening: otlp-http [0-9.]*:\([0-9]*\).*/\1/p' "$WORK/clew.log")
}

stop_clew() {
	if [ -n "$CLEW_PID" ]; then
		kill "$CLEW_PID" 2>/dev/null || true
		wait "$CLEW_PID" 2>/dev/null || true
		CLEW_PID=
	fi
}

metric() { curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# "median M min A max B runs N" of the numbers on stdin
stats() { sort -g | awk '{ v[NR] = $1 } END { printf "median %s min %s max %s runs %d", v[int((NR + 1) / 2)], v[1], v[NR], NR }'; }

HAVE_GEN=0
RETENTION=() # generated spans are dated in the past: keep them all

# A span record file of N spans, the same for a given seed.
make_spans() { # n file; echoes the command used
	if ((HAVE_GEN)); then
		"$CLEW" gen --out "$2" --spans "$1" --seed "$SEED" --start "$GEN_START" --rate max >&2
		echo "$CLEW gen --out FILE --spans $1 --seed $SEED --start $GEN_START --rate max"
	else
		"$BIN/spanfile" --out "$2" --spans "$1" --seed "$SEED"
		echo "$BIN/spanfile --out FILE --spans $1 --seed $SEED"
	fi
}

log "building the release binaries"
make -s BUILD=release -j"$(nproc)" build/release/clew bench >&2
HAVE_GEN=0
"$CLEW" gen --help >/dev/null 2>&1 && HAVE_GEN=1
"$CLEW" serve --help 2>&1 | grep -q -- --retention && RETENTION=(--retention 0)
T_START=$(date +%s)

# 1. ingest per protocol (durable WAL, group commit)
run "" "$BIN/ingest" "${INGEST_ARGS[@]}"

# 2. the generator's own cost, apart from the server's
gen_cost() { # label cmd...
	local t
	/usr/bin/time -o "$WORK/time" -f '%U %S' "$@" >/dev/null
	t=$(tail -1 "$WORK/time")
	awk -v n="$GEN_SPANS" -v t="$t" 'BEGIN { split(t, a, " "); printf "%.0f cpu_s %.2f\n", n / (a[1] + a[2]), a[1] + a[2] }'
}
if ((HAVE_GEN)); then
	put gen_spans_per_cpu_sec "$CLEW gen --out /dev/null --spans $GEN_SPANS --seed $SEED --start $GEN_START --rate max" \
		"$(gen_cost "$CLEW" gen --out /dev/null --spans "$GEN_SPANS" --seed "$SEED" --start "$GEN_START" --rate max)"
else
	put gen_spans_per_cpu_sec "clew gen does not exist yet" "n/a"
fi
put spanfile_spans_per_cpu_sec "$BIN/spanfile --out /dev/null --spans $GEN_SPANS --seed $SEED" \
	"$(gen_cost "$BIN/spanfile" --out /dev/null --spans "$GEN_SPANS" --seed "$SEED")"

# 3. ingest to queryable (durable WAL, group commit)
start_clew group
run "" "$BIN/queryable" --otlp-http "http://127.0.0.1:$OTLP_PORT/v1/traces" \
	--get-prefix "http://127.0.0.1:$HTTP_PORT/api/v1/traces/" "${Q_ARGS[@]}"
stop_clew

# 4. per store size: load the same file into clew and ClickHouse
for N in "${SIZES[@]}"; do
	P="n${N}_"
	F=$WORK/spans-$N.rec
	log "generating $N spans"
	GEN_CMD=$(make_spans "$N" "$F")
	start_clew none
	IDS=$WORK/ids-$N.txt
	run "$P" "$BIN/trace_by_id" load --file "$F" --url "http://127.0.0.1:$OTLP_PORT/v1/traces" --pid "$CLEW_PID" \
		--ids-out "$IDS" --n-ids 1000
	grep -E "^${P}(file_spans|data_services)" "$R" | sed "s/^$P//" >"$WORK/params-$N"
	run "$P" "$BIN/trace_by_id" query --ids "$IDS" --url-prefix "http://127.0.0.1:$HTTP_PORT/api/v1/traces/" \
		--runs "$RUNS"
	spans=$(metric clew_head_spans)
	spans=$(awk -v a="$spans" -v b="$(metric clew_block_spans)" 'BEGIN { printf "%.0f", a + b }')
	put "${P}clew_disk_bytes_per_span" "du -sb DATA_DIR / (clew_head_spans + clew_block_spans) right after the load" \
		"$(du -sb "$CLEW_DATA" | awk -v n="$spans" '{ printf "%.1f bytes %.0f spans %.0f", $1 / n, $1, n }')"
	put "${P}clew_block_bytes_per_span" "clew_block_bytes / clew_block_spans from /metrics" \
		"$(awk -v b="$(metric clew_block_bytes)" -v n="$(metric clew_block_spans)" 'BEGIN {
			if (n > 0) printf "%.1f blocks_spans %.0f", b / n, n; else print "n/a" }')"
	put "${P}clew_head_bytes_per_span" "clew_head_bytes / clew_head_spans from /metrics" \
		"$(awk -v b="$(metric clew_head_bytes)" -v n="$spans" 'BEGIN { printf "%.1f", b / n }')"
	put "${P}clew_rss_bytes" "clew_process_resident_memory_bytes from /metrics after the load" \
		"$(metric clew_process_resident_memory_bytes)"
	# the fixed query set: Tempo's search and metrics endpoints
	bash bench/clickhouse.sh --print-queries "$WORK/params-$N" >"$WORK/queries-$N"
	ws=$(get "${P}file_spans" window_start_unix_s)
	we=$(get "${P}file_spans" window_end_unix_s)
	while IFS=$'\t' read -r name kind traceql _; do
		if [ "$kind" = search ]; then
			args=(-G "http://127.0.0.1:$HTTP_PORT/api/search" --data-urlencode "q=$traceql" -d "start=$ws" -d "end=$we"
				-d limit=20)
		else
			args=(-G "http://127.0.0.1:$HTTP_PORT/api/metrics/query_range" --data-urlencode "q=$traceql"
				-d "start=$ws" -d "end=$we" -d "step=$((we - ws))s")
		fi
		code=$(curl -s -o /dev/null -w '%{http_code}' "${args[@]}" || true)
		if [ "$code" != 200 ]; then
			put "${P}clew_query_${name}_ms" "curl ${args[*]}" "n/a HTTP $code"
			continue
		fi
		put "${P}clew_query_${name}_ms" "curl ${args[*]} (x$RUNS)" "$(for _ in $(seq "$RUNS"); do
			curl -s -o /dev/null -w '%{time_total}\n' "${args[@]}"; done | awk '{ print $1 * 1000 }' | stats)"
	done <"$WORK/queries-$N"
	stop_clew
	# ClickHouse, same file, same ids, same queries
	if command -v clickhouse-server >/dev/null; then
		run "$P" bash bench/clickhouse.sh --file "$F" --ids "$IDS" --params "$WORK/params-$N" --runs "$RUNS"
	else
		put "${P}ch_version" "apt-get install clickhouse-server clickhouse-client" "n/a not installed"
	fi
	rm -f "$F"
	echo "$N $GEN_CMD" >>"$WORK/gen-cmds"
done
T_END=$(date +%s)

# ---- docs/benchmarks.md ----
fmt() { awk -v v="$1" 'BEGIN { if (v == "" || v == "n/a") { print "n/a"; exit }
	if (v >= 100) printf "%.0f\n", v; else if (v >= 10) printf "%.1f\n", v; else printf "%.3g\n", v }' |
	sed '/^[0-9]*$/ { :a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta }'; }
# "median (min - max)" of a result line
mmm() {
	local m
	m=$(get "$1" median)
	[ -n "$m" ] || { echo "n/a"; return; }
	echo "$(fmt "$m") ($(fmt "$(get "$1" min)") - $(fmt "$(get "$1" max)"))"
}
cmd_of() {
	awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "$C" |
		sed "s#$WORK#\$WORK#g; s/127\.0\.0\.1:[0-9]*/127.0.0.1:PORT/g; s/--pid [0-9]*/--pid PID/; s/|/\\\\|/g"
}
# ratio cell: how many times clew is better, for a figure where higher
# (hi) or lower (lo) is better
ratio() { # clew ch hi|lo
	awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN {
		if (a == "" || b == "" || a == "n/a" || b == "n/a" || a + 0 <= 0 || b + 0 <= 0) { print "n/a"; exit }
		r = d == "hi" ? a / b : b / a
		if (r >= 1) printf "clew %.2gx better", r; else printf "clew %.2gx worse", 1 / r }'
}
BIG=${SIZES[${#SIZES[@]}-1]}

{
	if [ -f "$DOC" ] && grep -qF "$MARKER" "$DOC"; then
		sed "/$MARKER/q" "$DOC"
	else
		cat <<EOF
# Benchmarks

How fast clew is, measured by the benchmark suite in \`bench/\` on one machine, and how it compares
with ClickHouse loaded with the same spans. Everything below the marker is rewritten by
\`bash bench/run.sh\` (\`--quick\` for a smoke test); edit only above it.

$MARKER
EOF
	fi
	cat <<EOF

## Run

$(date -u '+%Y-%m-%d %H:%M UTC'), clew $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$( ((QUICK)) && echo ", **quick run** (small sizes, not for comparison)"), $(( (T_END - T_START) / 60 )) minutes.

| machine | |
|---|---|
| CPU | $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores |
| RAM | $(free -g | awk '/Mem:/ { print $2 }') GiB |
| disk | $(df -h "$WORK" | awk 'NR == 2 { print $1 ", " $2 " (" $4 " free)" }'), $(lsblk -dno ROTA "$(df "$WORK" | awk 'NR == 2 { print $1 }')" 2>/dev/null | awk '{ print ($1 == 1 ? "reported rotational" : "SSD") }') |
| kernel | $(uname -sr) |
| ClickHouse | $(get "${P}ch_version" || true) (Debian's clickhouse-server) |

Figures are medians of several runs with the spread (min - max) in brackets; "per CPU-second" divides
by the utime + stime of the server process only, so the client's and the generator's cost are apart.
Spans: $( ((HAVE_GEN)) && echo "\`clew gen\`" || echo "\`bench/spanfile\` (bench/lib_spans.c; \`clew gen\` does not exist yet)"), seed $SEED; the largest file has $(get "n${SIZES[${#SIZES[@]}-1]}_data_services") services and $(awk -v a="$(get "n${SIZES[${#SIZES[@]}-1]}_ch_bytes_per_span_spans" uncompressed_per_span)" 'BEGIN { printf "%.0f", a }') bytes per span uncompressed in ClickHouse's span table.

## clew

| figure | value | command |
|---|---|---|
| ingest, OTLP/HTTP protobuf, spans per server CPU-second | $(mmm ingest_otlp_http_protobuf_spans_per_cpu_sec) | \`$(cmd_of ingest_otlp_http_protobuf_spans_per_cpu_sec)\` |
| ingest, OTLP/HTTP JSON, spans per server CPU-second | $(mmm ingest_otlp_http_json_spans_per_cpu_sec) | same |
| ingest, OTLP/gRPC, spans per server CPU-second | $(mmm ingest_otlp_grpc_spans_per_cpu_sec) | same |
| server memory per request in flight (protobuf), bytes | $(fmt "$(get inflight_bytes_per_request_otlp_http_protobuf mean)") mean, $(fmt "$(get inflight_bytes_per_request_otlp_http_protobuf max)") max | same |
| server RSS after the protobuf ingest run, bytes | $(fmt "$(get server_rss_bytes)") with $(fmt "$(get server_rss_bytes head_spans)") spans in the head | same |
| generator cost, \`clew gen\`, spans per CPU-second | $(fmt "$(get gen_spans_per_cpu_sec)") | \`$(cmd_of gen_spans_per_cpu_sec)\` |
| generator cost, bench/spanfile, spans per CPU-second | $(fmt "$(get spanfile_spans_per_cpu_sec)") | \`$(cmd_of spanfile_spans_per_cpu_sec)\` |
| ingest to queryable, from the send, p50 ms | $(mmm send_to_queryable_p50_ms) | \`$(cmd_of send_to_queryable_p50_ms)\` |
| ingest to queryable, from the send, p99 ms | $(mmm send_to_queryable_p99_ms) | same |
| ingest to queryable, after the ack, p50 ms | $(mmm ack_to_queryable_p50_ms) | same |
| ingest to queryable, after the ack, p99 ms | $(mmm ack_to_queryable_p99_ms) | same |
| traces not readable at the first ask after the ack | $(get queryable_not_readable_at_first_ask) of $(get queryable_not_readable_at_first_ask of) | same |
EOF
	for N in "${SIZES[@]}"; do
		P="n${N}_"
		cat <<EOF
| **store of $(fmt "$N") spans** (loaded with \`--wal-sync none\`) | | \`$(awk -v n="$N" '$1 == n { $1 = ""; print substr($0, 2) }' "$WORK/gen-cmds")\` |
| load, OTLP/HTTP protobuf, spans per server CPU-second | $(mmm "${P}load_spans_per_cpu_sec") over $(get "${P}load_spans_per_cpu_sec" chunks) chunks | \`$(cmd_of "${P}load_spans_per_cpu_sec")\` |
| load, spans per second (wall, $(nproc) cores shared with the client) | $(fmt "$(get "${P}load_spans_per_wall_sec")") | same |
| server RSS during the load (max), bytes | $(fmt "$(get "${P}load_server_rss_bytes" max)") | same |
| head memory per span, bytes | $(fmt "$(get "${P}clew_head_bytes_per_span")") | $(cmd_of "${P}clew_head_bytes_per_span") |
| disk bytes per span (data directory: WAL + blocks) | $(fmt "$(get "${P}clew_disk_bytes_per_span")") | $(cmd_of "${P}clew_disk_bytes_per_span") |
| block bytes per span ($(fmt "$(get "${P}clew_block_bytes_per_span" blocks_spans)") spans in blocks) | $(fmt "$(get "${P}clew_block_bytes_per_span")") | $(cmd_of "${P}clew_block_bytes_per_span") |
| trace by id, p50 ms ($(get "${P}trace_by_id_p50_ms" ids) random traces; answers not 200: $(get "${P}trace_by_id_failures")) | $(mmm "${P}trace_by_id_p50_ms") | \`$(cmd_of "${P}trace_by_id_p50_ms")\` |
| trace by id, p99 ms | $(mmm "${P}trace_by_id_p99_ms") | same |
EOF
		while IFS=$'\t' read -r name kind traceql _; do
			v=$(get "${P}clew_query_${name}_ms")
			if [ "$v" = n/a ]; then
				val="not yet available in clew (the endpoint answers HTTP $(get "${P}clew_query_${name}_ms" HTTP))"
			else
				val=$(mmm "${P}clew_query_${name}_ms")
			fi
			echo "| $kind \`$(echo "$traceql" | sed 's/|/\\|/g')\`, ms | $val | \`$(cmd_of "${P}clew_query_${name}_ms")\` |"
		done <"$WORK/queries-$N"
	done
	cat <<EOF
| trace by id at 100M spans | not run by this suite yet (a 100M-span file is ~$(awk -v b="$(get "n${BIG}_clew_disk_bytes_per_span")" 'BEGIN { printf "%.0f", b * 1e8 / 2^30 }') GiB and the load would take most of an hour on this machine) | |

## clew vs ClickHouse

The same span file ($(fmt "$BIG") spans, seed $SEED) loaded into clew (\`--wal-sync none\`, in-memory
head + WAL) and into a private \`clickhouse-server\` ($(get "n${BIG}_ch_version")) started by
\`bash bench/clickhouse.sh\` with its own data directory: table \`spans\` ordered by (service_name,
span_name, start_ns) with attributes as parallel key and value arrays, plus table \`spans_by_trace\`
ordered by trace id holding each span whole (ClickHouse 18.16 has no skip indices, so the trace-id
lookup aid is that second table, as Jaeger-ClickHouse, SigNoz and Uptrace keep one), zstd compression
for every part ([schema](../bench/clickhouse/schema.sql), [config](../bench/clickhouse/config.xml.in)).
Rows go in as RowBinary over HTTP, about 100,000 spans per insert (\`bench/ch_load\`). Queries and
their SQL: [bench/clickhouse/queries.tsv](../bench/clickhouse/queries.tsv).

| figure | clew | ClickHouse | ratio | note |
|---|---|---|---|---|
EOF
	P="n${BIG}_"
	cl=$(get "${P}load_spans_per_cpu_sec" median)
	ch=$(get "${P}ch_load_spans_per_cpu_sec" median)
	echo "| load, spans per server CPU-second (median over inserts) | $(fmt "$cl") | $(fmt "$ch") | $(ratio "$cl" "$ch" hi) | clew: OTLP/HTTP protobuf, WAL not synced; ClickHouse: RowBinary inserts into both tables, no fsync (its default); decoding and row building by \`ch_load\` ($(fmt "$(get "${P}ch_converter_spans_per_cpu_sec")") spans per CPU-second) not counted |"
	ch=$(get "${P}ch_load_with_merges_spans_per_cpu_sec")
	echo "| load incl. background merges, spans per server CPU-second | $(fmt "$(get "${P}load_spans_per_cpu_sec" overall)") | $(fmt "$ch") | $(ratio "$(get "${P}load_spans_per_cpu_sec" overall)" "$ch" hi) | ClickHouse: all server CPU until its merges are done; clew: all server CPU during the load, block cutting included |"
	cl=$(get "${P}load_spans_per_wall_sec")
	ch=$(get "${P}ch_load_spans_per_wall_sec")
	echo "| load, spans per second (wall) | $(fmt "$cl") | $(fmt "$ch") | $(ratio "$cl" "$ch" hi) | $(nproc) cores shared by server and client |"
	cl=$(get "${P}clew_disk_bytes_per_span")
	b1=$(get "${P}ch_bytes_per_span_spans")
	b2=$(get "${P}ch_bytes_per_span_spans_by_trace")
	ch=$(awk -v a="$b1" -v b="$b2" 'BEGIN { if (a != "" && b != "") print a + b }')
	echo "| disk bytes per span | $(fmt "$cl") | $(fmt "$ch") ($(fmt "$b1") spans + $(fmt "$b2") spans_by_trace) | $(ratio "$cl" "$ch" lo) | clew: du of the data directory (blocks + the WAL not yet covered by blocks); ClickHouse: system.parts bytes_on_disk / rows |"
	cl=$(get "${P}clew_block_bytes_per_span")
	echo "| block bytes per span | $(fmt "$cl") | $(fmt "$ch") | $(ratio "$cl" "$ch" lo) | clew: clew_block_bytes / clew_block_spans, the spans already cut into blocks |"
	cl=$(get "${P}load_server_rss_bytes" max)
	ch=$(get "${P}ch_load_server_rss_bytes" max)
	echo "| server RSS during the load (max), bytes | $(fmt "$cl") | $(fmt "$ch") | $(ratio "$cl" "$ch" lo) | clew: head (up to --head-max-bytes) and blocks being written; ClickHouse: insert buffers and caches |"
	for q in p50 p99; do
		cl=$(get "${P}trace_by_id_${q}_ms" median)
		ch=$(get "${P}ch_trace_by_id_${q}_ms" median)
		echo "| trace by id, $q ms (same $(get "${P}trace_by_id_p50_ms" ids) ids; answers not 200: clew $(get "${P}trace_by_id_failures"), ClickHouse $(get "${P}ch_trace_by_id_failures")) | $(mmm "${P}trace_by_id_${q}_ms") | $(mmm "${P}ch_trace_by_id_${q}_ms") | $(ratio "$cl" "$ch" lo) | clew: native JSON (head and blocks); ClickHouse: resource and span protobuf from spans_by_trace, RowBinary |"
	done
	while IFS=$'\t' read -r name kind traceql sql; do
		ch=$(get "${P}ch_query_${name}_ms" median)
		if [ "$(get "${P}clew_query_${name}_ms")" = n/a ]; then
			echo "| $kind \`$(echo "$traceql" | sed 's/|/\\|/g')\`, ms | not yet available in clew | $(mmm "${P}ch_query_${name}_ms") ($(get "${P}ch_query_${name}_ms" result_rows) rows) | not comparable: no TraceQL in clew yet | |"
		else
			cl=$(get "${P}clew_query_${name}_ms" median)
			echo "| $kind \`$(echo "$traceql" | sed 's/|/\\|/g')\`, ms | $(mmm "${P}clew_query_${name}_ms") | $(mmm "${P}ch_query_${name}_ms") ($(get "${P}ch_query_${name}_ms" result_rows) rows) | $(ratio "$cl" "$ch" lo) | |"
		fi
	done <"$WORK/queries-$BIG"
	cat <<EOF
| ingest to queryable | $(fmt "$(get ack_to_queryable_p50_ms median)") ms p50 after the ack | | not comparable | ClickHouse-based tracing systems batch spans in a collector for seconds before the insert; the figure would measure that setting |
| ingest, OTLP/HTTP JSON and gRPC | see above | | not comparable | ClickHouse does not speak OTLP; a collector in front would be measured |

Raw result lines of this run:

\`\`\`
$(cat "$R")
\`\`\`
EOF
} >"$WORK/benchmarks.md"
mkdir -p docs
mv "$WORK/benchmarks.md" "$DOC"
log "wrote $DOC"
