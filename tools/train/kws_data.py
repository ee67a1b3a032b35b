#!/usr/bin/python3
"""Prepare the extra audio kws.py trains on (raw audio only: every feature
is computed later by the Go front-end, `kagen features`).

Writes under WORK/audio/ (WORK = tools/train/work by default), each a
directory of clips named LABEL_GROUP_ID.wav as replay's clip-directory mode
expects (the GROUP field is the speaker used for leave-speaker-out splits):

  fsdd-speed/   speed perturbation of the FSDD clips, factors --speeds: the
                same 16-bit samples with the header's rate multiplied by the
                factor; replay resamples to 8 kHz, so the clip plays
                faster (higher) or slower (lower). Speaker names unchanged,
                so a held-out speaker's copies are excluded with it.
  asterisk/     Debian's asterisk-core-sounds-en-wav digits 0-9 (voice
                "Allison", US English, CC BY-SA 3.0), trimmed of leading and
                trailing silence: speaker "allison". Only if installed.
  synth/        synthetic digits ("zero".."nine") from espeak-ng (speaker
                "espeak": English voices x variants, random speed and pitch)
                and flite (speaker "flite": its voices, random duration and
                pitch), trimmed. For training only, never for evaluation.
  noise/        noise-only traces (white, pink and brown noise at several
                levels, plus alsa-utils' Noise.wav if installed), each with
                an empty NAME.labels.csv so that every window is labelled
                _silence_; group "noise".

Seeded; prints its command. Usage:
  /usr/bin/python3 tools/train/kws_data.py [--synth-per-digit 60]
"""

import argparse
import os
import shutil
import subprocess
import sys
import wave

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as C  # noqa: E402

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ESPEAK_VOICES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-gb-x-gbclan", "en-029"]
ESPEAK_VARIANTS = ["", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7", "+f1", "+f2", "+f3", "+f4", "+f5",
                   "+klatt", "+klatt2", "+klatt3", "+croak", "+whisper"]
FLITE_VOICES = ["kal", "kal16", "awb", "rms", "slt"]


def read_wav(path):
    with wave.open(path) as w:
        p = w.getparams()
        assert p.sampwidth == 2, path
        a = np.frombuffer(w.readframes(p.nframes), dtype="<i2").astype(np.float32) / 32768
        if p.nchannels > 1:
            a = a.reshape(-1, p.nchannels).mean(1)
        return a, p.framerate


def write_wav(path, a, rate):
    a = np.clip(np.round(a * 32767), -32768, 32767).astype("<i2")
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate))
        w.writeframes(a.tobytes())


def trim(a, rate, thresh_db=-35.0, margin_s=0.03):
    """Cut leading and trailing frames (10 ms) whose RMS is more than
    thresh_db below the loudest frame, keeping a margin."""
    f = max(1, int(rate * 0.01))
    n = len(a) // f
    if n == 0:
        return a
    e = np.sqrt((a[:n * f].reshape(n, f) ** 2).mean(1) + 1e-12)
    on = np.nonzero(20 * np.log10(e / e.max()) > thresh_db)[0]
    m = int(margin_s * rate)
    lo = max(0, on[0] * f - m)
    hi = min(len(a), (on[-1] + 1) * f + m)
    return a[lo:hi]


def fresh(d):
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)


def speed(args, fsdd, out):
    fresh(out)
    n = 0
    for name in sorted(os.listdir(fsdd)):
        if not name.endswith(".wav"):
            continue
        with wave.open(os.path.join(fsdd, name)) as w:
            p = w.getparams()
            frames = w.readframes(p.nframes)
        for f in args.speeds:
            base = name[:-4] + f"_sp{f:g}.wav"
            with wave.open(os.path.join(out, base), "wb") as o:
                o.setnchannels(p.nchannels)
                o.setsampwidth(p.sampwidth)
                o.setframerate(int(round(p.framerate * f)))
                o.writeframes(frames)
            n += 1
    C.log(f"{out}: {n} speed-perturbed FSDD clips (factors {args.speeds})")


def asterisk(out):
    src = "/usr/share/asterisk/sounds/en/digits"
    fresh(out)
    if not os.path.isdir(src):
        C.log(f"{src} missing: apt-get install asterisk-core-sounds-en-wav (skipping)")
        return
    for d in range(10):
        a, r = read_wav(os.path.join(src, f"{d}.wav"))
        write_wav(os.path.join(out, f"{d}_allison_0.wav"), trim(a, r), r)
    C.log(f"{out}: 10 asterisk (Allison) digit clips")


def synth(args, out, rng):
    fresh(out)
    tmp = os.path.join(out, "tmp.wav")
    n = {"espeak": 0, "flite": 0}
    have_espeak = shutil.which("espeak-ng") is not None
    have_flite = shutil.which("flite") is not None
    if not (have_espeak or have_flite):
        C.log("espeak-ng and flite missing: apt-get install espeak-ng flite (skipping synthetic clips)")
        return
    for d, word in enumerate(WORDS):
        for i in range(args.synth_per_digit if have_espeak else 0):
            v = ESPEAK_VOICES[rng.integers(len(ESPEAK_VOICES))] + ESPEAK_VARIANTS[rng.integers(len(ESPEAK_VARIANTS))]
            s = int(rng.integers(110, 220))
            p = int(rng.integers(20, 80))
            subprocess.run(["espeak-ng", "-v", v, "-s", str(s), "-p", str(p), "-w", tmp, word], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            a, r = read_wav(tmp)
            write_wav(os.path.join(out, f"{d}_espeak_{i}.wav"), trim(a, r), r)
            n["espeak"] += 1
        for i in range(args.synth_per_digit // 2 if have_flite else 0):
            v = FLITE_VOICES[rng.integers(len(FLITE_VOICES))]
            st = float(rng.uniform(0.8, 1.3))
            f0 = int(rng.integers(80, 200))
            subprocess.run(["flite", "-voice", v, "-t", word, "-o", tmp, "--setf", f"duration_stretch={st:.2f}",
                            "--setf", f"int_f0_target_mean={f0}"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            a, r = read_wav(tmp)
            write_wav(os.path.join(out, f"{d}_flite_{i}.wav"), trim(a, r), r)
            n["flite"] += 1
    os.remove(tmp)
    C.log(f"{out}: synthetic clips {n}")


def coloured(rng, n, kind):
    w = rng.standard_normal(n)
    if kind == "white":
        return w
    f = np.fft.rfft(w)
    k = np.arange(len(f), dtype=np.float64)
    k[0] = 1
    f /= np.sqrt(k) if kind == "pink" else k
    x = np.fft.irfft(f, n)
    return x / x.std()


def noise(args, out, rng):
    fresh(out)
    rate = 8000
    n = 0
    for kind in ["white", "pink", "brown"]:
        for lvl in args.noise_levels:
            a = coloured(rng, int(args.noise_seconds * rate), kind) * lvl
            name = f"n_noise_{kind}{lvl:g}"
            write_wav(os.path.join(out, name + ".wav"), a, rate)
            with open(os.path.join(out, name + ".labels.csv"), "w") as f:
                f.write("start_s,end_s,label\n")
            n += 1
    alsa = "/usr/share/sounds/alsa/Noise.wav"
    if os.path.exists(alsa):
        a, r = read_wav(alsa)
        for lvl in [1.0, 0.3, 0.1]:
            name = f"n_noise_alsa{lvl:g}"
            write_wav(os.path.join(out, name + ".wav"), a * lvl, r)
            with open(os.path.join(out, name + ".labels.csv"), "w") as f:
                f.write("start_s,end_s,label\n")
            n += 1
    C.log(f"{out}: {n} noise-only traces")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--speeds", type=float, nargs="*", default=[0.9, 1.1])
    ap.add_argument("--synth-per-digit", type=int, default=60,
                    help="espeak-ng clips per digit (flite: half as many)")
    ap.add_argument("--noise-levels", type=float, nargs="*", default=[0.001, 0.003, 0.01, 0.03, 0.1])
    ap.add_argument("--noise-seconds", type=float, default=20)
    ap.add_argument("--out", default=os.path.join(C.WORK, "audio"))
    args = ap.parse_args()
    C.print_command()
    rng = np.random.default_rng(args.seed)
    fsdd = os.path.join(C.DATA, "fsdd", "recordings")
    speed(args, fsdd, os.path.join(args.out, "fsdd-speed"))
    asterisk(os.path.join(args.out, "asterisk"))
    synth(args, os.path.join(args.out, "synth"), rng)
    noise(args, os.path.join(args.out, "noise"), rng)


if __name__ == "__main__":
    main()
