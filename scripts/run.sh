#!/usr/bin/env bash
# The demo: builds clew, starts `clew serve` with the embedded store, and runs
# `clew gen` against it at a moderate rate with fault scenarios cycling in
# and out, then prints the URLs to open. Ctrl-C (or --for DUR) stops both.
#
#   scripts/run.sh [--data-dir DIR] [--host HOST] [--http-port P] [--otlp-grpc-port P]
#                  [--otlp-http-port P] [--zipkin-port P] [--rate SPANS_PER_S]
#                  [--for SECONDS] [--no-gen]
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=./clew-data HOST=0.0.0.0 HTTP=3200 GRPC=4317 OTLP=4318 ZIPKIN=9411 RATE=2000 FOR= GEN=1
while [ $# -gt 0 ]; do
	case "$1" in
	--data-dir) DATA=$2; shift 2 ;;
	--host) HOST=$2; shift 2 ;;
	--http-port) HTTP=$2; shift 2 ;;
	--otlp-grpc-port) GRPC=$2; shift 2 ;;
	--otlp-http-port) OTLP=$2; shift 2 ;;
	--zipkin-port) ZIPKIN=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--for) FOR=$2; shift 2 ;;
	--no-gen) GEN=0; shift ;;
	-h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done

bash scripts/deps.sh --no-npm
make -s -j"$(nproc)" BUILD=release build/release/clew
make -s ui
mkdir -p "$DATA"

build/release/clew serve --data-dir "$DATA" --http "$HOST:$HTTP" --otlp-grpc "$HOST:$GRPC" \
	--otlp-http "$HOST:$OTLP" --zipkin "$HOST:$ZIPKIN" 2> >(tee -a "$DATA/clew.log" >&2) &
SERVE=$!
GENPID=
stop() {
	trap - INT TERM
	[ -n "$GENPID" ] && kill -INT "$GENPID" 2>/dev/null && wait "$GENPID" 2>/dev/null || true
	kill -TERM "$SERVE" 2>/dev/null || true
	wait "$SERVE" 2>/dev/null
	local rc=$?
	echo "clew stopped (exit $rc)" >&2
	exit "$rc"
}
trap stop INT TERM

LOCAL=$HOST
[ "$LOCAL" = 0.0.0.0 ] && LOCAL=127.0.0.1
for _ in $(seq 1 100); do
	curl -sf "http://$LOCAL:$HTTP/ready" >/dev/null 2>&1 && break
	kill -0 "$SERVE" 2>/dev/null || { echo "clew serve did not start (see above)" >&2; exit 1; }
	sleep 0.1
done

if [ "$GEN" = 1 ]; then
	# ground truth of each fault goes to faults.log, one JSON line per change
	build/release/clew gen --target "http://$LOCAL:$OTLP" --rate "$RATE" --fault-cycle \
		2>>"$DATA/faults.log" &
	GENPID=$!
fi

cat <<MSG

clew is running, with simulated traffic from about 40 services ($RATE spans/s,
faults cycling in and out; their ground truth goes to $DATA/faults.log).

  Web UI              http://$LOCAL:$HTTP/
  Query APIs          http://$LOCAL:$HTTP/api/search?q={}
  A trace             http://$LOCAL:$HTTP/api/v1/traces/<trace id>
  Grafana (Tempo)     data source URL http://$LOCAL:$HTTP
  Grafana (Jaeger)    data source URL http://$LOCAL:$HTTP/jaeger
  Metrics             http://$LOCAL:$HTTP/metrics

Send your own spans to OTLP/gRPC $LOCAL:$GRPC, OTLP/HTTP http://$LOCAL:$OTLP/v1/traces,
Zipkin http://$LOCAL:$ZIPKIN/api/v2/spans. Stop with Ctrl-C.

MSG

if [ -n "$FOR" ]; then
	sleep "$FOR"
	stop
fi
wait "$SERVE"
