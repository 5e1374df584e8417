#!/usr/bin/env bash
# Builds clew and starts `clew serve` with the embedded store in ./clew-data.
# Extra arguments go to clew serve (e.g. --http 127.0.0.1:3200).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --no-npm
make -s -j"$(nproc)" BUILD=release build/release/clew
cat <<'MSG'

clew is starting. Send spans to:
  OTLP/gRPC   localhost:4317
  OTLP/HTTP   http://localhost:4318/v1/traces
  Zipkin      http://localhost:9411/api/v2/spans
Read them at:
  http://localhost:3200/api/v1/traces/<trace id>   (and the Tempo and Jaeger APIs)
  http://localhost:3200/metrics
Stop with Ctrl-C.

MSG
exec build/release/clew serve --data-dir ./clew-data "$@"
