#!/usr/bin/python3
"""Print the markdown tables of models/README.md from results/*.json
(cross-validation summaries, final trainings, check.json).

Usage: /usr/bin/python3 tools/train/report.py [RESULT.json ...]
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def pct(v):
    return "-" if v is None else f"{100 * v:.1f}"


def cv_table(path, key="summary"):
    r = json.load(open(path))
    s = r[key]
    lines = [f"`{os.path.basename(path)}` ({key}): mean {pct(s['accuracy_mean'])}%, std {pct(s['accuracy_std'])}, "
             f"worst fold {pct(s['accuracy_min'])}% ({','.join(s['worst_fold'])}), best {pct(s['accuracy_max'])}%, "
             f"pooled {pct(s['pooled_accuracy'])}%, balanced {pct(s['balanced_accuracy_mean'])}%; "
             f"{r.get('seconds', 0) / 60:.0f} min", "",
             "| fold (held out) | accuracy | n |", "|---|---|---|"]
    for f in s["per_fold"]:
        lines.append(f"| {','.join(f['groups'])} | {pct(f['accuracy'])}% | {f['n']} |")
    lines += ["", "| class | recall mean | std | worst fold |", "|---|---|---|---|"]
    for c, v in s["per_class"].items():
        lines.append(f"| `{c}` | {pct(v['mean'])}% | {pct(v['std'])} | {pct(v['min'])}% |")
    if "folds" in r:
        be = [f.get("best_epoch") for f in r["folds"]]
        lines += ["", f"best epochs per fold: {be}; seconds per fold: {[round(f.get('seconds', 0)) for f in r['folds']]}"]
    return "\n".join(lines)


def main():
    paths = sys.argv[1:] or sorted(os.path.join(HERE, "results", p) for p in os.listdir(os.path.join(HERE, "results")))
    for p in paths:
        r = json.load(open(p))
        print(f"### {os.path.basename(p)}\n")
        if "summary" in r:
            print(cv_table(p))
            for k in r:
                if k.startswith("summary_"):
                    print()
                    print(cv_table(p, k))
        elif "kept_out_metrics" in r:
            m = r["kept_out_metrics"]
            ms = m if "accuracy" in m else m
            items = ms.items() if "accuracy" not in ms else [("windows", ms)]
            print(f"params {r['params']}, MACs {r['macs']}, {r['bytes']} bytes, best epoch {r['best_epoch']}/"
                  f"{r['epochs_run']}, {r['seconds'] / 60:.1f} min")
            for name, mm in items:
                print(f"- kept out {r['kept_out']} {name}: {pct(mm['accuracy'])}% of {mm['n']}; recall "
                      + ", ".join(f"{c} {pct(v)}" for c, v in mm["per_class"].items()))
        else:
            print("```")
            print(json.dumps({k: {kk: vv for kk, vv in v.items() if kk != "eval"} for k, v in r.items()}, indent=1))
            print("```")
        print()


if __name__ == "__main__":
    main()
