#!/usr/bin/python3
"""Prints the per-node table of bench/dw (GMAC/s of kagen and ONNX Runtime per
shape) from the JSON lines of bench/peers.sh runs:

    python3 bench/dw/table.py after.txt [before.txt]

With before.txt (a run of the old kagen), "before" columns are added: the
runs are not interleaved with each other, so compare the ratios to ORT
(each measured interleaved with ORT in its own run), not GMAC/s across
runs on a loaded machine.
"""
import json
import re
import sys


def load(path):
    out = {}
    for line in open(path):
        if line.startswith("{"):
            d = json.loads(line)
            out[(d["threads"], d["model"])] = d
    return out


def macs(name):
    c, size, k, s = map(int, re.match(r"dw_c(\d+)_(\d+)_k(\d)s(\d)", name).groups())
    o = (size + 2 * (k // 2) - k) // s + 1
    return c * o * o * k * k


def main():
    after = load(sys.argv[1])
    before = load(sys.argv[2]) if len(sys.argv) > 2 else {}
    for threads in sorted({t for t, _ in after}):
        print(f"\nthreads {threads}: GMAC/s at the median\n")
        print("| shape | MMAC | kagen before | kagen after | ORT | before/ORT time | after/ORT time |")
        print("|---|---|---|---|---|---|---|")
        names = [n for t, n in after if t == threads and n.startswith("dw_")]
        for name in sorted(names, key=macs, reverse=True):
            m = macs(name)
            g = lambda us: f"{m / us / 1e3:.1f}" if us else "n/a"
            a = after[(threads, name)]
            bd = before.get((threads, name), {})
            b = bd.get("kagen_median_us")
            br = f"{b / bd['ort_median_us']:.2f}x" if b else "n/a"
            print(f"| {name[:-5]} | {m / 1e6:.2f} | {g(b)} | {g(a['kagen_median_us'])} | {g(a['ort_median_us'])} | {br} | {a['kagen_median_us'] / a['ort_median_us']:.2f}x |")


if __name__ == "__main__":
    main()
