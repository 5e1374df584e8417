#!/usr/bin/env bash
# Installs what clew needs to build and test on Debian 12: the C libraries
# from Debian's packages and the npm packages of the end-to-end tests.
# Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(gcc make pkg-config libnghttp2-dev libjansson-dev libzstd-dev zlib1g-dev libxxhash-dev
      libcurl4-openssl-dev libpcre2-dev protobuf-compiler curl nodejs npm
      chromium)

missing=()
for p in "${DEBS[@]}"; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# node and npm may come from elsewhere than Debian; only install them if absent
if command -v node >/dev/null && command -v npm >/dev/null; then
	missing=("${missing[@]/nodejs}")
	missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
	echo "deps: installing Debian packages: ${missing[*]}"
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# the web UI's build (esbuild) and chart and graph libraries
if [ -f ui/package-lock.json ]; then
	if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
		echo "deps: installing npm packages for the web UI"
		(cd ui && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi

if [ "${1:-}" != "--no-npm" ] && [ -f tests/e2e/package-lock.json ]; then
	if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules/.package-lock.json ]; then
		echo "deps: installing npm packages for the end-to-end tests"
		(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
	fi
fi
