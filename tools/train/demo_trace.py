#!/usr/bin/python3
"""Build the keyword demo trace demo/data/kws.wav and its sidecar
demo/data/kws.labels.csv from the kept-out FSDD speaker (theo by default;
the shipped keyword models never trained on it).

--per-digit clips of every digit (seeded choice among the speaker's 50
recordings of it), in a seeded random order, played back to back: a gap of
at least uniformly --gap-min..--gap-max seconds before each clip and after
the last, lengthened so that the clip's centre falls on the centre of one
of the models' windows (1 s windows every 0.5 s: centres at k x 0.5 s,
--grid; gaps then 0.5-1.2 s). Every digit is thus seen whole by one window
centred on it, as `kagen eval` of a clip folder does, instead of falling
between two window centres and being labelled _silence_ by the interval
rule. Low white noise (--noise-dbfs RMS, seeded) under the whole trace,
clips included. 8 kHz, 16-bit mono PCM (FSDD's own format: the clips are copied
sample for sample, no resampling). The sidecar has replay's header
"start_s,end_s,label" and one interval per clip (its exact extent in the
trace), so that `kagen eval` labels a window by the clip under its centre,
else _silence_.

Data: Free Spoken Digit Dataset, Z. Jackson et al., doi:10.5281/zenodo.1342401,
CC BY-SA 4.0 (the trace is derived audio under the same licence; see
demo/data/NOTICE).

Usage (the Makefile's `demo` target):
  /usr/bin/python3 tools/train/demo_trace.py
  kagen eval demo/data/kws-ds.onnx --data demo/data/kws.wav
"""

import argparse
import glob
import os
import re
import sys
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

RATE = 8000


def read_clip(path):
    with wave.open(path) as w:
        p = w.getparams()
        if (p.nchannels, p.sampwidth, p.framerate) != (1, 2, RATE):
            raise SystemExit(f"{path}: expected 8 kHz 16-bit mono, got {p}")
        return np.frombuffer(w.readframes(p.nframes), dtype="<i2").astype(np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--speaker", default="theo")
    ap.add_argument("--per-digit", type=int, default=4)
    ap.add_argument("--gap-min", type=float, default=0.5)
    ap.add_argument("--gap-max", type=float, default=0.8)
    ap.add_argument("--noise-dbfs", type=float, default=-66.0,
                    help="RMS of the background white noise, dB full scale (theo's clips: median -44)")
    ap.add_argument("--grid", type=float, default=0.5,
                    help="window hop in s; clip centres at hop*(k+1) (0: no alignment)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=os.path.join(C.REPO, "demo", "data", "kws.wav"))
    args = ap.parse_args()
    C.print_command()
    rng = np.random.default_rng(args.seed)
    fsdd = os.path.join(C.DATA, "fsdd", "recordings")
    chosen = []
    for d in range(10):
        files = sorted(glob.glob(os.path.join(fsdd, f"{d}_{args.speaker}_*.wav")),
                       key=lambda p: int(re.search(r"_(\d+)\.wav$", p).group(1)))
        if len(files) < args.per_digit:
            raise SystemExit(f"{fsdd}: only {len(files)} clips of digit {d} by {args.speaker}")
        chosen += [files[i] for i in sorted(rng.choice(len(files), size=args.per_digit, replace=False))]
    chosen = [chosen[i] for i in rng.permutation(len(chosen))]

    parts, labels, t = [], [], 0
    for path in chosen:
        a = read_clip(path)
        gap = int(round(rng.uniform(args.gap_min, args.gap_max) * RATE))
        if args.grid > 0:
            g = int(round(args.grid * RATE))
            centre = t + gap + len(a) // 2
            gap += (-centre) % g  # next window centre (a multiple of the hop, >= 1 window/2)
        parts.append(np.zeros(gap))
        t += gap
        parts.append(a)
        labels.append((t / RATE, (t + len(a)) / RATE, os.path.basename(path).split("_")[0], os.path.basename(path)))
        t += len(a)
    tail = int(round(rng.uniform(args.gap_min, args.gap_max) * RATE))
    parts.append(np.zeros(tail))
    x = np.concatenate(parts)
    x += rng.standard_normal(len(x)) * 32768 * 10 ** (args.noise_dbfs / 20)
    pcm = np.clip(np.round(x), -32768, 32767).astype("<i2")

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with wave.open(args.out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    side = args.out[:-4] + ".labels.csv"
    with open(side, "w") as f:
        f.write("start_s,end_s,label\n")
        for s, e, lab, _ in labels:
            f.write(f"{s:.4f},{e:.4f},{lab}\n")
    C.log(f"{args.out}: {len(pcm) / RATE:.2f} s, {os.path.getsize(args.out)} bytes, {len(labels)} clips of "
          f"{args.speaker} ({args.per_digit} per digit, seed {args.seed}); {side}")
    C.log("clips in order: " + " ".join(c for *_, c in labels))


if __name__ == "__main__":
    main()
