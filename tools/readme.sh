#!/bin/sh
# Re-runs the example commands of README.md and rewrites their output, so
# that the examples cannot drift from what kagen prints (tools/readme/).
#
#   tools/readme.sh [--data-root DIR] [--skip REGEXP] [--check]
#
# --data-root: the study's data (default ../shared/data), whose held-out
# subjects' phone recordings (s17-s19, *_sp.csv) are the examples'
# heldout/ folder. --skip: leave the examples whose command matches as
# they are (the tune example takes about a minute on a loaded 2-core
# machine; everything else seconds). --check: rewrite nothing, fail if
# an example's output changed.
set -eu
cd "$(dirname "$0")/.."
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/kagen" .
go run ./tools/readme --kagen "$bin/kagen" "$@"
