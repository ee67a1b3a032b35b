#!/usr/bin/env bash
# Compare kagen against ONNX Runtime and GoMLX (pure-Go simplego backend), and
# with --engines ...,onnxgo onnx-go (Gorgonia backend), on
# the same models, same thread count, runs interleaved. See README.md.
#
#   bench/peers.sh [--runs N] [--threads T] [--json-only] [--sgemm] MODEL.onnx...
#   bench/peers.sh                  # the three test models in bench/testdata
#   bench/peers.sh --sgemm          # SGEMM GFLOP/s only
#   bench/peers.sh --zoo [DIR|MODEL.onnx...]   # one line per model of the zoo
#                                   # (default bench/.cache/zoo: bench/zoo/README.md)
#   bench/peers.sh --zoo --threads 1,2   # at 1 and 2 threads, interleaved: ratios
#                                   # per count and each engine's 2-thread speedup
#
# Needs go, gcc (cgo, for onnxruntime_go) and npm (fetch_ort.sh fetches
# libonnxruntime.so.1 into bench/.cache/ on first use). If the kagen engine
# does not compile, the bench is built with -tags nokagen and kagen shows as
# n/a. Other flags: --warmup N, --seed S, --engines kagen,ort,gomlx[,onnxgo],
# --gomaxprocs P, --rtol, --atol, --ort-lib PATH (see `peers.sh --help`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v go >/dev/null || { echo "peers.sh: go is needed" >&2; exit 1; }
command -v "$(go env CC 2>/dev/null || echo gcc)" >/dev/null ||
  { echo "peers.sh: a C compiler is needed for cgo (apt-get install gcc)" >&2; exit 1; }

lib="${ORT_LIB:-}"
[[ -n "$lib" ]] || lib="$("$here/fetch_ort.sh")"

mkdir -p "$here/.cache"
bin="$here/.cache/peers"
log="$here/.cache/build.log"
if ! (cd "$here" && CGO_ENABLED=1 go build -mod=mod -o "$bin" ./cmd/peers) 2>"$log"; then
  echo "peers.sh: building with the kagen engine failed; benchmarking the peers alone (-tags nokagen):" >&2
  head -n 8 "$log" | sed 's/^/  /' >&2
  (cd "$here" && CGO_ENABLED=1 go build -mod=mod -tags nokagen -o "$bin" ./cmd/peers)
fi

# Default models: everything in bench/testdata, unless models or --sgemm
# were given; with --zoo, the zoo in bench/.cache/zoo unless directories or
# models were given.
have_model=0
zoo=0
for a in "$@"; do
  case "$a" in
    *.onnx | --sgemm | -sgemm | -h | --help | -help) have_model=1 ;;
    --zoo | -zoo | --zoo=true | -zoo=true) zoo=1 ;;
  esac
  if [[ -d "$a" ]]; then have_model=1; fi
done
if [[ $have_model == 0 && $zoo == 1 ]]; then
  set -- "$@" "$here/.cache/zoo"
elif [[ $have_model == 0 ]]; then
  set -- "$@" "$here"/testdata/*.onnx
fi
exec "$bin" --ort-lib "$lib" "$@"
