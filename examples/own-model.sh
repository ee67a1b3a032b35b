#!/bin/sh
# Own model: run a model exported without kagen's front-end spec.
#
#   examples/own-model.sh MODEL.onnx TRAIN_DATA HELDOUT_DATA [SPEC FLAGS...]
#
# torch.onnx.export writes the network and nothing about its input: how
# a trace becomes the tensor, and the normalisation the network was
# trained with. This script trains nothing. It
#   1. writes the spec of the front-end the model was trained on
#      (kagen spec --task ..., no norm yet; SPEC FLAGS default to
#      --task har --window 64 --hop 32, the shipped HAR model's),
#   2. computes the norm from the training data with kagen features
#      --norm (features are computed without a norm, so there is no
#      circle: the norm comes from them), the same mean and population
#      standard deviation per channel as tools/train's norm_stats, so the
#      norm matches training when TRAIN_DATA is the data it trained on,
#   3. stores the spec with its norm in the model (kagen spec --attach),
#   4. checks the spec against the model and evaluates it on HELDOUT_DATA.
#
# Environment: KAGEN (default: kagen), WORK (default: a temporary
# folder; the results are WORK/model.onnx and WORK/features/), MATCH
# (the training files' name pattern, default: the task's), TRAIN_HOP
# (hop of the training windows in samples, default: the spec's).
set -eu
if [ $# -lt 3 ]; then
	sed -n '2,24p' "$0" >&2
	exit 2
fi
kagen=${KAGEN:-kagen}
model=$1 train=$2 heldout=$3
shift 3
[ $# -gt 0 ] || set -- --task har --window 64 --hop 32
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"

echo "== 1. the front-end spec, without a norm"
$kagen spec "$@" -o "$work/spec.json"

echo "== 2. features of the training data, and their norm"
set -- --spec "$work/spec.json" --data "$train" --norm -o "$work/features"
[ -z "${MATCH:-}" ] || set -- "$@" --match "$MATCH"
[ -z "${TRAIN_HOP:-}" ] || set -- "$@" --hop "$TRAIN_HOP"
$kagen features "$@"

echo "== 3. the spec with its norm, stored in the model"
$kagen spec --attach "$work/features/spec.json" "$model" -o "$work/model.onnx"

echo "== 4. checked, and evaluated on held-out data"
$kagen spec --check "$work/model.onnx" "$work/model.onnx"
$kagen eval "$work/model.onnx" --data "$heldout"
