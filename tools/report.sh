#!/usr/bin/env bash
# Regenerates docs/EVALUATION.md and docs/figures/ on a clean checkout:
# the engine comparison with ONNX Runtime and GoMLX (bench/peers.sh, cgo),
# then `kagen report`, which profiles, tunes and replays the demo models on
# their held-out traces. Takes under 20 minutes on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
peers=$(mktemp)
if bash bench/peers.sh --json-only --runs 200 models/*.onnx > "$peers.all" 2>/dev/null &&
	bash bench/peers.sh --json-only --sgemm >> "$peers.all" 2>/dev/null; then
	grep '^{' "$peers.all" > "$peers" || true
else
	echo "bench/peers.sh failed (needs gcc and npm); the report will say the peers were not run" >&2
fi
go run . report -o docs --peers "$peers" "$@"
