#!/usr/bin/env bash
# Fetch ONNX Runtime's CPU shared library (libonnxruntime.so.1) into
# bench/.cache/ort-$VERSION/ unless it is already there.
#
# It comes from the npm package onnxruntime-node, which ships prebuilt
# libraries under package/bin/napi-v6/<os>/<arch>/. Only `npm pack` is used:
# the package's install script is never run (it would download more).
#
# Prints the path of the library on stdout; progress goes to stderr.
# Env: ORT_VERSION (default 1.30.0).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${ORT_VERSION:-1.30.0}"
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "fetch_ort.sh: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
dest="$here/.cache/ort-$version/linux-$arch"
lib="$dest/libonnxruntime.so.1"

if [[ -f "$lib" ]]; then
  echo "$lib"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch_ort.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch_ort.sh: npm pack onnxruntime-node@$version (~110 MB download)" >&2
(cd "$tmp" && npm pack --silent "onnxruntime-node@$version" >/dev/null)
tgz="$(ls "$tmp"/onnxruntime-node-*.tgz)"
member="package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
tar -xzf "$tgz" -C "$tmp" "$member"
mkdir -p "$dest"
mv "$tmp/$member" "$lib.tmp"
mv "$lib.tmp" "$lib"
echo "fetch_ort.sh: wrote $lib" >&2
echo "$lib"
