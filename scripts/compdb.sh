#!/usr/bin/env bash
# Writes compile_commands.json (for clang-tidy and clangd) by recording a
# full debug build with bear.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v bear >/dev/null || { echo "compdb: needs bear (apt-get install bear)"; exit 1; }
bear --output compile_commands.json -- make -B -j"$(nproc)" BUILD=debug build/debug/clew build/debug/unit_tests
echo "wrote compile_commands.json"
