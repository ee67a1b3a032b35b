#!/usr/bin/env bash
# libkagen in CI (issue #21): builds libkagen.so and libkagen.a for
# linux/amd64 and linux/arm64 and the device runner for linux/arm64,
# prints their sizes (each deliverable for arm64 must stay under 6 MB),
# runs the C test (examples/c/kagen_test.c) natively against both
# libraries and under qemu-aarch64-static against the arm64 ones, each
# compared with `kagen replay --log` on the demo trace run on the same
# architecture, and runs the Python ctypes example with Debian's python3.
#
# Needs gcc, gcc-aarch64-linux-gnu, libc6-dev-arm64-cross,
# qemu-user-static and /usr/bin/python3. Run from the repository root.
set -euo pipefail
out=${1:-/tmp/kagen-libkagen}
rm -rf "$out"
mkdir -p "$out/amd64" "$out/arm64"

model=demo/data/har.onnx
other=demo/data/kws-ds.onnx
policy=examples/har.policy.json
traces=(demo/data/har/*.csv) # sorted, as replay plays the folder
ldflags="-s -w"              # the device build: no symbol table or DWARF
limit=$((6 * 1024 * 1024))

for arch in amd64 arm64; do
	cc=gcc
	[ "$arch" = arm64 ] && cc=aarch64-linux-gnu-gcc
	export CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc
	go build -buildmode=c-shared -ldflags="$ldflags" -o "$out/$arch/libkagen.so" ./libkagen
	go build -buildmode=c-archive -ldflags="$ldflags" -o "$out/$arch/libkagen.a" ./libkagen
	$cc -O2 -Wall -Wextra -Werror -Ilibkagen -o "$out/$arch/kagen_test" examples/c/kagen_test.c -L"$out/$arch" -lkagen -lm
	$cc -O2 -Wall -Wextra -Werror -Ilibkagen -o "$out/$arch/kagen_test_static" examples/c/kagen_test.c "$out/$arch/libkagen.a" -lpthread -lm
	CGO_ENABLED=0 go build -ldflags="$ldflags" -o "$out/$arch/kagen-run" ./cmd/kagen-run
	CGO_ENABLED=0 go build -o "$out/$arch/kagen" .
done
unset CGO_ENABLED GOOS GOARCH CC

echo "sizes (bytes; built with -ldflags='$ldflags'):"
for f in "$out"/*/libkagen.so "$out"/*/libkagen.a "$out"/*/kagen-run "$out"/*/kagen; do
	printf '  %-40s %9d\n' "${f#"$out"/}" "$(stat -c %s "$f")"
done
for f in "$out/arm64/libkagen.so" "$out/arm64/kagen-run"; do
	if [ "$(stat -c %s "$f")" -ge "$limit" ]; then
		echo "FAIL: ${f#"$out"/} is 6 MB or more"
		exit 1
	fi
done
echo "what the device builds link (no workbench, report, plots, PDF, NATS, sqlite):"
deps=$(go list -deps ./libkagen ./cmd/kagen-run | grep kagen-ai/kagen | sed 's|github.com/kagen-ai/kagen/||' | sort -u | tr '\n' ' ')
echo "  $deps"
if go list -deps ./libkagen ./cmd/kagen-run | grep -E 'kagen/(tui|report|sessions|profile|tuning|dataset)|bubbletea|nats|sqlite|pdf|plot'; then
	echo "FAIL: a heavy package reaches the device builds"
	exit 1
fi

qemu="qemu-aarch64-static -L /usr/aarch64-linux-gnu"
"$out/amd64/kagen" replay --model $model --policy $policy --trace demo/data/har --cost pareto --log "$out/amd64/expect.jsonl" >/dev/null
$qemu "$out/arm64/kagen" replay --model $model --policy $policy --trace demo/data/har --cost pareto --log "$out/arm64/expect.jsonl" >/dev/null

export KAGEN_TIMING=0
echo "--- C test, linux/amd64, libkagen.so"
LD_LIBRARY_PATH="$out/amd64" "$out/amd64/kagen_test" $model $policy $other "$out/amd64/expect.jsonl" "${traces[@]}" | grep -E "^(demo|kagen_test)"
echo "--- C test, linux/amd64, libkagen.a"
"$out/amd64/kagen_test_static" $model $policy $other "$out/amd64/expect.jsonl" "${traces[@]}" | grep -E "^(demo|kagen_test)"
echo "--- C test, linux/arm64 under qemu, libkagen.so"
$qemu -E LD_LIBRARY_PATH="$out/arm64" "$out/arm64/kagen_test" $model $policy $other "$out/arm64/expect.jsonl" "${traces[@]}" | grep -E "^(demo|kagen_test)"
echo "--- C test, linux/arm64 under qemu, libkagen.a"
$qemu "$out/arm64/kagen_test_static" $model $policy $other "$out/arm64/expect.jsonl" "${traces[@]}" | grep -E "^(demo|kagen_test)"
echo "--- examples/c/hello.c (the README's C snippet), linux/amd64"
gcc -O2 -Wall -Wextra -Werror -Ilibkagen -o "$out/amd64/hello" examples/c/hello.c -L"$out/amd64" -lkagen
LD_LIBRARY_PATH="$out/amd64" "$out/amd64/hello" $model $policy "${traces[0]}"
echo "--- Python ctypes example (/usr/bin/python3), linux/amd64"
/usr/bin/python3 examples/python/kagen_demo.py "$out/amd64/libkagen.so" $model $policy "${traces[@]}" --expect "$out/amd64/expect.jsonl"
