#!/usr/bin/env bash
# Regenerates docs/EVALUATION.md and docs/figures/ on a clean checkout:
# the engine comparison with ONNX Runtime and GoMLX (bench/peers.sh, cgo),
# then `kagen report`, which profiles, tunes and replays the demo models on
# their held-out traces. Takes under 20 minutes on a 2-core machine, plus
# 10-15 for the zoo at 1 and 2 threads when the zoo is exported
# (bench/.cache/zoo; tools/zoo-table.sh regenerates that section alone).
set -euo pipefail
cd "$(dirname "$0")/.."
peers=$(mktemp)
if bash bench/peers.sh --json-only --runs 200 models/*.onnx > "$peers.all" 2>/dev/null &&
	bash bench/peers.sh --json-only --sgemm >> "$peers.all" 2>/dev/null; then
	grep '^{' "$peers.all" > "$peers" || true
else
	echo "bench/peers.sh failed (needs gcc and npm); the report will say the peers were not run" >&2
fi
zoo=()
if [[ -d bench/.cache/zoo ]]; then
	bash bench/peers.sh --zoo --threads 1,2 --json-only > "$peers.zoo" 2>/dev/null || true
	if grep -q '"summary":"zoo"' "$peers.zoo"; then
		zoo=(--zoo "$peers.zoo")
	else
		echo "bench/peers.sh --zoo gave no result; the report keeps the previous zoo section" >&2
	fi
else
	echo "no zoo in bench/.cache/zoo (bench/zoo/README.md); the report keeps the previous zoo section" >&2
fi
go run . report -o docs --peers "$peers" "${zoo[@]}" "$@"
