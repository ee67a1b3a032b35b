#!/usr/bin/env python3
"""libkagen from Python with ctypes (no package to install): the notebook use.

    python3 kagen_demo.py LIBKAGEN.so MODEL POLICY TRACE.csv... [--expect EXPECT.jsonl]

Opens the model and its policy, pushes each IMU trace's rows (a flush
after each file), prints the first windows and the statistics, and with
--expect checks every decision against `kagen replay --log` on the same
traces (exit status 1 if one differs).
"""
import csv
import ctypes as C
import os
import json
import sys

KAGEN_ABI_VERSION = 1
KAGEN_MAX_SCORES = 64
KAGEN_MAX_LEVELS = 32
KAGEN_RULE_LEN = 128


class Info(C.Structure):
    _fields_ = [("task", C.c_int32), ("window_size", C.c_int32), ("n_columns", C.c_int32),
                ("n_classes", C.c_int32), ("n_levels", C.c_int32), ("sample_rate", C.c_int32)]


class Result(C.Structure):
    _fields_ = [("seq", C.c_int64), ("index", C.c_int32), ("class_index", C.c_int32),
                ("start_s", C.c_double), ("end_s", C.c_double), ("confidence", C.c_float),
                ("level", C.c_int32), ("next_level", C.c_int32), ("non_finite", C.c_int32),
                ("latency_us", C.c_double), ("energy_j", C.c_double), ("n_scores", C.c_int32),
                ("scores", C.c_float * KAGEN_MAX_SCORES), ("rule", C.c_char * KAGEN_RULE_LEN)]


class Stats(C.Structure):
    _fields_ = [("windows", C.c_int64), ("switches", C.c_int64), ("non_finite", C.c_int64),
                ("bad_lines", C.c_int64), ("gaps", C.c_int64), ("busy_us", C.c_double),
                ("energy_j", C.c_double), ("n_levels", C.c_int32),
                ("level_windows", C.c_int64 * KAGEN_MAX_LEVELS)]


class Kagen:
    """A handle of libkagen: a model and its policy, pushed IMU rows."""

    def __init__(self, lib, model, policy):
        if os.sep not in lib and os.path.isfile(lib):
            lib = os.path.join(os.curdir, lib)  # ctypes searches the library path, not the current folder
        self.lib = C.CDLL(lib)
        L = self.lib
        L.kagen_abi_version.restype = C.c_int
        L.kagen_open_files.argtypes = [C.c_char_p, C.c_char_p, C.c_void_p, C.POINTER(C.c_uint64), C.c_char_p, C.c_size_t]
        L.kagen_get_info.argtypes = [C.c_uint64, C.POINTER(Info)]
        L.kagen_column_name.argtypes = [C.c_uint64, C.c_int32, C.c_char_p, C.c_size_t]
        L.kagen_class_name.argtypes = [C.c_uint64, C.c_int32, C.c_char_p, C.c_size_t]
        L.kagen_push_imu.argtypes = [C.c_uint64, C.POINTER(C.c_double), C.POINTER(C.c_double), C.c_size_t, C.c_size_t]
        L.kagen_flush.argtypes = [C.c_uint64]
        L.kagen_next_result.argtypes = [C.c_uint64, C.POINTER(Result)]
        L.kagen_get_stats.argtypes = [C.c_uint64, C.POINTER(Stats)]
        L.kagen_last_error.argtypes = [C.c_uint64, C.c_char_p, C.c_size_t]
        L.kagen_close.argtypes = [C.c_uint64]
        if L.kagen_abi_version() != KAGEN_ABI_VERSION:
            raise RuntimeError("libkagen ABI %d, this script knows %d" % (L.kagen_abi_version(), KAGEN_ABI_VERSION))
        self.h = C.c_uint64(0)
        err = C.create_string_buffer(512)
        rc = L.kagen_open_files(model.encode(), policy.encode(), None, C.byref(self.h), err, len(err))
        if rc != 0:
            raise RuntimeError("kagen_open_files: %d: %s" % (rc, err.value.decode()))
        self.info = Info()
        self._check(L.kagen_get_info(self.h, C.byref(self.info)))
        self.columns = [self._name(L.kagen_column_name, i) for i in range(self.info.n_columns)]
        self.classes = [self._name(L.kagen_class_name, i) for i in range(self.info.n_classes)]

    def _name(self, fn, i):
        buf = C.create_string_buffer(128)
        self._check(fn(self.h, i, buf, len(buf)))
        return buf.value.decode()

    def _check(self, rc):
        if rc < 0:
            buf = C.create_string_buffer(512)
            self.lib.kagen_last_error(self.h, buf, len(buf))
            raise RuntimeError("libkagen: %d: %s" % (rc, buf.value.decode()))
        return rc

    def _results(self):
        out, r = [], Result()
        while self._check(self.lib.kagen_next_result(self.h, C.byref(r))) == 1:
            out.append({"seq": r.seq, "class": r.class_index, "prediction": self.classes[r.class_index] if r.class_index >= 0 else "",
                        "confidence": r.confidence, "level": r.level, "next_level": r.next_level,
                        "rule": r.rule.decode(), "latency_us": r.latency_us, "energy_j": r.energy_j,
                        "scores": list(r.scores[:min(r.n_scores, KAGEN_MAX_SCORES)])})
        return out

    def push_imu(self, timestamps, rows):
        """Push rows (lists of the columns' values) with their Unix ms timestamps."""
        n = len(timestamps)
        ts = (C.c_double * n)(*timestamps)
        flat = [v for row in rows for v in row]
        vals = (C.c_double * len(flat))(*flat)
        self._check(self.lib.kagen_push_imu(self.h, ts, vals, n, len(flat)))
        return self._results()

    def flush(self):
        self._check(self.lib.kagen_flush(self.h))
        return self._results()

    def stats(self):
        s = Stats()
        self._check(self.lib.kagen_get_stats(self.h, C.byref(s)))
        return s

    def close(self):
        self.lib.kagen_close(self.h)


def read_trace(path, columns):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [float(r["timestamp"]) for r in rows], [[float(r[c]) for c in columns] for r in rows]


def main(argv):
    expect = None
    if "--expect" in argv:
        i = argv.index("--expect")
        expect = [json.loads(line) for line in open(argv[i + 1])]
        argv = argv[:i] + argv[i + 2:]
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    k = Kagen(argv[1], argv[2], argv[3])
    print("columns", k.columns, "classes", k.classes)
    results = []
    for path in argv[4:]:
        ts, rows = read_trace(path, k.columns)
        for i in range(0, len(ts), 250):  # as a sensor delivers them, in batches
            results += k.push_imu(ts[i:i + 250], rows[i:i + 250])
        results += k.flush()
    for r in results[:3]:
        print("window %d: %s (%.3f) at level %d -> %d: %s" % (r["seq"], r["prediction"], r["confidence"], r["level"], r["next_level"], r["rule"]))
    s = k.stats()
    print("%d windows, per level %s, %d switches, inference energy %.4g J (modelled), mean latency %.1f us"
          % (s.windows, list(s.level_windows[:s.n_levels]), s.switches, s.energy_j, s.busy_us / max(s.windows, 1)))
    k.close()
    if expect is not None:
        bad = [i for i, (r, e) in enumerate(zip(results, expect))
               if (r["class"], r["level"], r["next_level"], r["rule"]) != (e["class"], e["from"], e["to"], e["rule"])
               or abs(r["confidence"] - e["confidence"]) > 1e-6]
        if bad or len(results) != len(expect):
            print("differs from kagen replay: %d windows against %d; windows %s" % (len(results), len(expect), bad[:5]), file=sys.stderr)
            return 1
        print("every decision equal to kagen replay's (%d windows)" % len(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
