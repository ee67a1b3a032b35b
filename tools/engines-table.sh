#!/usr/bin/env bash
# Regenerates the "Why kagen has its own ONNX engine" section of README.md
# and docs/EVALUATION.md (between their "engines:begin" and "engines:end"
# markers) and nothing else: kagen, onnx-go, GoMLX and ONNX Runtime side by
# side on the ONNX backend tests, the zoo and the shipped models.
#
#   tools/engines-table.sh            # measure everything, then render
#   tools/engines-table.sh --render   # render again from the kept files
#   tools/engines-table.sh --shipped  # measure the shipped models again, render
#
# Steps, each with the machine's load average noted in load.txt:
#   kagen conformance DIR...                                   (conf-kagen.txt)
#   bench/cmd/onnxgo-conformance -engine onnxgo|gomlx|ort DIR... (conf-E.txt)
#   bench/peers.sh --json-only --engines kagen,ort,gomlx,onnxgo --runs 100 models/*.onnx
#   bench/peers.sh --zoo --json-only --engines kagen,ort,gomlx,onnxgo --runs 5 --warmup 1 --budget 2s --zoo-timeout 20m
#   bench/cmd/engines-table: renders the section from those files.
# DIR are the Debian backend test folders CI runs (libonnx-testdata). Needs
# what bench/peers.sh needs (gcc, npm or ORT_LIB) and the exported zoo
# (bench/zoo/README.md; ZOO=DIR for another). About 30 minutes on 2 cores,
# most of it GoMLX on the zoo's convolutional networks. The measured files
# are kept (gitignored) in bench/.cache/engines/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/.cache/engines
mkdir -p "$out"
render() {
	(cd bench && go run ./cmd/engines-table -dir .cache/engines -readme ../README.md ../docs/EVALUATION.md)
	echo "engines-table.sh: rewrote the engines section of README.md and docs/EVALUATION.md" >&2
}
if [[ "${1:-}" == "--render" ]]; then
	render
	exit 0
fi
data=${ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
dirs=("$data/node" "$data/pytorch-converted" "$data/pytorch-operator" "$data/simple")
zoo=${ZOO:-bench/.cache/zoo}
lib=${ORT_LIB:-}
[[ -n "$lib" ]] || lib=$(bench/fetch_ort.sh)
export ORT_LIB=$lib
note() { echo "$(date -u +%H:%M) $1: load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/load.txt"; }
shipped() {
	note "shipped models start"
	bash bench/peers.sh --json-only --engines kagen,ort,gomlx,onnxgo --runs 100 models/*.onnx >"$out/shipped.jsonl" 2>"$out/shipped.err" || true
	note "shipped models end"
}
if [[ "${1:-}" == "--shipped" ]]; then
	shipped
	render
	exit 0
fi
: >"$out/load.txt"

note "kagen conformance start"
go run . conformance "${dirs[@]}" >"$out/conf-kagen.txt" 2>&1 || true
(cd bench && go build -o .cache/onnxgo-conformance ./cmd/onnxgo-conformance)
for e in onnxgo gomlx ort; do
	note "$e conformance start"
	bench/.cache/onnxgo-conformance -engine "$e" -kagen=false -v "${dirs[@]}" >"$out/conf-$e.txt" 2>&1 || true
done
# peers.sh exits non-zero when an engine does not load or match ORT: the
# table says so; only a run without any line is a failure (the renderer
# refuses it).
shipped
note "zoo start"
bash bench/peers.sh --zoo --json-only --engines kagen,ort,gomlx,onnxgo --runs 5 --warmup 1 --budget 2s --zoo-timeout 20m "$zoo" >"$out/zoo.jsonl" 2>"$out/zoo.err" || true
note "end"
render
