"""The README's distillation table from scripts/repro/distill_fashion_mnist.sh's eval JSON files:
per objective, test top-1 (%), NLL and ECE (%) as mean +- standard deviation over the seeds, and
teacher-student agreement."""
import glob
import json
import os
import statistics
import sys

out, methods = sys.argv[1], sys.argv[2:]
teacher = json.load(open(os.path.join(out, "teacher.json")))
print(f"teacher: top-1 {100 * teacher['accuracy']:.2f}%, NLL {teacher['nll']:.4f}, ECE {100 * teacher['ece']:.2f}%")
print()
print("| student objective | top-1 (%) | NLL | ECE (%) | agreement with teacher (%) | seeds |")
print("|---|---|---|---|---|---|")


def spread(values, scale=1.0, digits=2):
    mean = statistics.mean(values) * scale
    sd = statistics.stdev(values) * scale if len(values) > 1 else float("nan")
    return f"{mean:.{digits}f} +- {sd:.{digits}f}"


for method in methods:
    runs = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, f"{method}_seed*.json")))]
    if not runs:
        continue
    print(f"| {method} | {spread([r['accuracy'] for r in runs], 100)} | {spread([r['nll'] for r in runs], 1, 4)} | "
          f"{spread([r['ece'] for r in runs], 100)} | {spread([r['agreement'] for r in runs], 100)} | {len(runs)} |")
