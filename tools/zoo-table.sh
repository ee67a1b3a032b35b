#!/usr/bin/env bash
# Regenerates the zoo section of docs/EVALUATION.md (between its
# "zoo:begin" and "zoo:end" markers) and nothing else: every model of the
# zoo against ONNX Runtime at 1 and 2 threads, all interleaved in one run
# (bench/peers.sh --zoo --threads 1,2), then `kagen report --zoo-only`.
#
#   tools/zoo-table.sh                    # the zoo in bench/.cache/zoo
#   tools/zoo-table.sh DIR|MODEL.onnx...  # another zoo; any peers.sh flag too
#
# Needs what bench/peers.sh needs (gcc, npm or ORT_LIB) and the exported zoo
# (bench/zoo/README.md). About 10-15 minutes on a 2-core machine. The
# section states the machine's load average during the run.
# tools/report.sh runs the same measurement for a full report.
set -euo pipefail
cd "$(dirname "$0")/.."
# The raw lines are kept (gitignored) so that a table can be re-rendered
# without measuring again: go run . report -o docs --zoo FILE --zoo-only
mkdir -p bench/.cache
out=bench/.cache/zoo-table.jsonl
# peers exits non-zero when a model does not load or match ORT: the table
# says so; only a run without any model line is a failure.
bash bench/peers.sh --zoo --threads 1,2 --json-only "$@" >"$out" 2>"$out.err" || true
if ! grep -q '"summary":"zoo"' "$out"; then
	echo "zoo-table.sh: bench/peers.sh --zoo gave no result:" >&2
	tail -n 20 "$out.err" >&2
	exit 1
fi
go run . report -o docs --zoo "$out" --zoo-only
echo "zoo-table.sh: rewrote the zoo section of docs/EVALUATION.md" >&2
