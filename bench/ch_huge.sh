#!/usr/bin/env bash
# ClickHouse's side of the large-store benchmark (bench/huge.sh): the same
# 200,000 probe spans and the same chunks of `clew gen` traffic (same seeds
# and sizes as huge.sh), streamed through a FIFO into bench/clickhouse.sh
# (no span file of that size on disk), then trace by id over the probe ids.
#
#   bash bench/ch_huge.sh [--spans 100000000] [--dir /tmp/clew-ch-huge]
set -euo pipefail
cd "$(dirname "$0")/.."
SPANS=100000000 DIR=/tmp/clew-ch-huge
while [ $# -gt 0 ]; do
	case "$1" in
	--spans) SPANS=$2; shift 2 ;;
	--dir) DIR=$2; shift 2 ;;
	*) echo "ch_huge.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
make -s -j"$(nproc)" BUILD=release build/release/clew build/release/bench/trace_by_id build/release/bench/ch_load
rm -rf "$DIR" && mkdir -p "$DIR"
# a copy of the binary: a rebuild during the hour-long load must not change it
mkdir -p "$DIR/bin" && cp build/release/clew build/release/bench/trace_by_id build/release/bench/ch_load "$DIR/bin/"
CLEW=$DIR/bin/clew
export CLEW_BENCH_BIN=$DIR/bin
START=2026-01-01T00:00:00Z

$CLEW gen --out "$DIR/probe.otlp" --spans 200000 --seed 999 --start "$START" --rate max 2>/dev/null
"$DIR/bin/trace_by_id" ids --file "$DIR/probe.otlp" --ids-out "$DIR/ids.txt" --n-ids 1000 >/dev/null

# the chunk sizes and seeds of huge.sh
feed() {
	cat "$DIR/probe.otlp"
	local loaded=200000 seed=1 prev=0 target n
	for target in 1000000 10000000 $((SPANS / 2)) "$SPANS"; do
		[ "$target" -le "$SPANS" ] && [ "$target" -gt "$prev" ] || continue
		prev=$target
		while [ "$loaded" -lt "$target" ]; do
			n=$((target - loaded)); [ "$n" -gt 10000000 ] && n=10000000
			$CLEW gen --out /dev/stdout --rate max --spans "$n" --seed "$seed" --start "$START" 2>/dev/null ||
				{ echo "ch_huge.sh: clew gen failed (seed $seed)" >&2; exit 1; }
			loaded=$((loaded + n)); seed=$((seed + 1))
		done
	done
}
mkfifo "$DIR/spans.fifo"
feed >"$DIR/spans.fifo" &
FEED=$!
trap 'kill $FEED 2>/dev/null || true; rm -f "$DIR/spans.fifo"' EXIT
bash bench/clickhouse.sh --file "$DIR/spans.fifo" --ids "$DIR/ids.txt" --runs 3 --no-queries
