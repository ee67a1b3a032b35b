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
  fsdd-aug/     --aug-copies copies of every FSDD clip, each with a random
                speed (--aug-speed, resampled: tempo and pitch together), an
                independent pitch shift (+-aug-pitch semitones: phase-vocoder
                time stretch then resampling back to the length) and, with
                probability --aug-rir, a simulated room (synthetic impulse
                response: direct path + exponentially decaying noise tail,
                RT60 0.15-0.8 s, random wet/dry mix). Named
                DIGIT_SPEAKER_IDX_aK.wav: the same clip and speaker as the
                original, so a held-out speaker's copies go with it.
  synth-more/   more synthetic voices: espeak-ng over its English voices and
                all its voice variants (--synth-more-per-digit clips per digit,
                random speed, pitch, word gap), flite over its four full
                voices, and --aug-copies augmented copies of the Allison
                digits, each passed through the same speed / pitch / room
                augmentation as fsdd-aug (speakers espeak, flite, allison).
  noise/        noise-only traces (white, pink and brown noise at several
                levels, plus alsa-utils' Noise.wav if installed), each with
                an empty NAME.labels.csv so that every window is labelled
                _silence_; group "noise".

Seeded; prints its command. Usage:
  /usr/bin/python3 tools/train/kws_data.py [--synth-per-digit 60] [--aug-copies 3]
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


def variants():
    """espeak-ng's voice variants (espeak-ng --voices=variant), else the
    short built-in list."""
    try:
        out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ESPEAK_VARIANTS
    names = [ln.split()[3] for ln in out.splitlines()[1:] if len(ln.split()) >= 4]
    return [""] + ["+" + n for n in names if n not in ("fast_test",)]


def resample(a, factor):
    """Play a at factor x speed (linear interpolation): length / factor."""
    n = max(2, int(round(len(a) / factor)))
    return np.interp(np.arange(n) * factor, np.arange(len(a)), a).astype(np.float32)


def stretch(a, rate, n_fft=256, hop=64):
    """Phase-vocoder time stretch by rate (>1: shorter), pitch unchanged."""
    if len(a) < n_fft:
        a = np.pad(a, (0, n_fft - len(a)))
    win = np.hanning(n_fft)
    frames = 1 + (len(a) - n_fft) // hop
    S = np.stack([np.fft.rfft(win * a[i * hop:i * hop + n_fft]) for i in range(frames)])
    steps = np.arange(0, frames - 1, rate)
    omega = 2 * np.pi * hop * np.arange(S.shape[1]) / n_fft
    phase = np.angle(S[0])
    out = np.zeros(len(steps) * hop + n_fft)
    for k, t in enumerate(steps):
        i = int(t)
        fr = t - i
        mag = (1 - fr) * np.abs(S[i]) + fr * np.abs(S[i + 1])
        out[k * hop:k * hop + n_fft] += win * np.fft.irfft(mag * np.exp(1j * phase), n_fft)
        dphi = np.angle(S[i + 1]) - np.angle(S[i]) - omega
        dphi -= 2 * np.pi * np.round(dphi / (2 * np.pi))
        phase += omega + dphi
    out /= (win ** 2).sum() / hop
    return out.astype(np.float32)


def pitch_shift(a, semitones):
    """Shift the pitch by semitones keeping the duration: stretch by
    1/f then play f times faster."""
    f = 2.0 ** (semitones / 12)
    return resample(stretch(a, 1 / f), f)


def room(a, rate, rng):
    """Convolve with a synthetic room impulse response: a direct path and a
    tail of Gaussian noise decaying by 60 dB over RT60 (0.15-0.8 s), mixed
    at a random direct-to-reverberant ratio; the level is restored."""
    rt60 = rng.uniform(0.15, 0.8)
    n = int(rt60 * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail[: int(0.002 * rate)] = 0
    h = tail / np.sqrt((tail ** 2).sum()) * 10 ** (-rng.uniform(0, 12) / 20)
    h[0] = 1.0
    y = np.convolve(a, h)[: len(a) + n // 2]
    return (y * (np.abs(a).max() / max(np.abs(y).max(), 1e-9))).astype(np.float32)


def perturb(args, a, rate, rng):
    """One random speed / pitch / room variant of clip a (8 kHz float)."""
    a = resample(a, rng.uniform(1 - args.aug_speed, 1 + args.aug_speed))
    a = pitch_shift(a, rng.uniform(-args.aug_pitch, args.aug_pitch))
    if rng.random() < args.aug_rir:
        a = room(a, rate, rng)
    peak = np.abs(a).max()
    return a / peak * rng.uniform(0.3, 0.9) if peak > 0 else a


def to8k(a, r):
    return a if r == 8000 else resample(a, r / 8000)


def fsdd_aug(args, fsdd, out, rng):
    fresh(out)
    n = 0
    for name in sorted(os.listdir(fsdd)):
        if not name.endswith(".wav"):
            continue
        a, r = read_wav(os.path.join(fsdd, name))
        a = to8k(a, r)
        for k in range(args.aug_copies):
            write_wav(os.path.join(out, name[:-4] + f"_a{k}.wav"), perturb(args, a, 8000, rng), 8000)
            n += 1
    C.log(f"{out}: {n} speed/pitch/room-augmented FSDD clips")


def synth_more(args, out, rng):
    fresh(out)
    tmp = os.path.join(out, "tmp.wav")
    n = {"espeak": 0, "flite": 0, "allison": 0}
    var = variants() if shutil.which("espeak-ng") else []
    voices = ESPEAK_VOICES + ["en-us-nyc", "en-uk"]
    flite = ["kal", "kal16", "awb", "rms", "slt"] if shutil.which("flite") else []
    for d, word in enumerate(WORDS):
        for i in range(args.synth_more_per_digit if var else 0):
            v = voices[rng.integers(len(voices))] + var[rng.integers(len(var))]
            cmd = ["espeak-ng", "-v", v, "-s", str(int(rng.integers(100, 240))), "-p", str(int(rng.integers(0, 99))),
                   "-a", "150", "-w", tmp, word]
            if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
                continue
            a, r = read_wav(tmp)
            a = trim(to8k(a, r), 8000)
            if rng.random() < 0.5:
                a = perturb(args, a, 8000, rng)
            write_wav(os.path.join(out, f"{d}_espeak_m{i}.wav"), a, 8000)
            n["espeak"] += 1
        for i in range(args.synth_more_per_digit // 3 if flite else 0):
            v = flite[rng.integers(len(flite))]
            subprocess.run(["flite", "-voice", v, "-t", word, "-o", tmp, "--setf",
                            f"duration_stretch={rng.uniform(0.75, 1.35):.2f}",
                            "--setf", f"int_f0_target_mean={int(rng.integers(70, 240))}"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            a, r = read_wav(tmp)
            a = perturb(args, trim(to8k(a, r), 8000), 8000, rng)
            write_wav(os.path.join(out, f"{d}_flite_m{i}.wav"), a, 8000)
            n["flite"] += 1
    src = "/usr/share/asterisk/sounds/en/digits"
    if os.path.isdir(src):
        for d in range(10):
            a, r = read_wav(os.path.join(src, f"{d}.wav"))
            a = trim(to8k(a, r), 8000)
            for k in range(args.aug_copies * 4):
                write_wav(os.path.join(out, f"{d}_allison_a{k}.wav"), perturb(args, a, 8000, rng), 8000)
                n["allison"] += 1
    if os.path.exists(tmp):
        os.remove(tmp)
    C.log(f"{out}: more synthetic / augmented extra clips {n} ({len(var)} espeak-ng variants)")


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
    ap.add_argument("--aug-copies", type=int, default=3, help="fsdd-aug: augmented copies per FSDD clip")
    ap.add_argument("--aug-speed", type=float, default=0.15, help="fsdd-aug: speed factor range 1 +- this")
    ap.add_argument("--aug-pitch", type=float, default=3.0, help="fsdd-aug: pitch shift range +- semitones")
    ap.add_argument("--aug-rir", type=float, default=0.5, help="fsdd-aug: probability of a simulated room")
    ap.add_argument("--only", default="base,fsdd-aug,synth-more",
                    help="comma list of the parts to (re)make: base (fsdd-speed, asterisk, synth, noise), "
                    "fsdd-aug, synth-more")
    ap.add_argument("--synth-more-per-digit", type=int, default=20,
                    help="synth-more: espeak-ng clips per digit (flite: a third as many)")
    ap.add_argument("--out", default=os.path.join(C.WORK, "audio"))
    args = ap.parse_args()
    args.only = args.only.split(",")
    C.print_command()
    rng = np.random.default_rng(args.seed)
    fsdd = os.path.join(C.DATA, "fsdd", "recordings")
    if "base" in args.only:
        speed(args, fsdd, os.path.join(args.out, "fsdd-speed"))
        asterisk(os.path.join(args.out, "asterisk"))
        synth(args, os.path.join(args.out, "synth"), rng)
        noise(args, os.path.join(args.out, "noise"), rng)
    # after the original sets, each from its own seed: the sets above stay as they were
    if "fsdd-aug" in args.only:
        fsdd_aug(args, fsdd, os.path.join(args.out, "fsdd-aug"), np.random.default_rng(args.seed + 1))
    if "synth-more" in args.only:
        synth_more(args, os.path.join(args.out, "synth-more"), np.random.default_rng(args.seed + 2))


if __name__ == "__main__":
    main()
