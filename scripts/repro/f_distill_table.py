#!/usr/bin/env python3
"""The f-distill mode-coverage table of scripts/repro/f_distill_2d.sh.

  f_distill_table.py OUT "SEED..." DIVERGENCE...

For the uniform and unequal teachers (OUT/uniform, OUT/unequal) and each divergence's one-step
generators (OUT/<teacher>_<divergence>_s<seed>): the share of samples whose nearest centre is
mode k (modes ordered as the weights), the modes dropped (share below half the weight), the
total variation between shares and weights, and the energy distance of eval.json; mean and,
over several seeds, +- the standard deviation.
"""
import json
import math
import sys

import numpy as np

WEIGHTS = {"uniform": [0.125] * 8, "unequal": [0.4, 0.3, 0.1, 0.05, 0.05, 0.04, 0.03, 0.03]}
CENTRES = np.array([[4 * math.cos(k * math.pi / 4), 4 * math.sin(k * math.pi / 4)] for k in range(8)])


def shares(samples):
    nearest = np.argmin(((samples[:, None, :] - CENTRES[None, :, :]) ** 2).sum(-1), axis=1)
    return np.bincount(nearest, minlength=8) / len(samples)


def scores(out, name, weights):
    s = shares(np.load(f"{out}/{name}/samples.npy"))
    w = np.array(weights)
    energy = json.load(open(f"{out}/{name}/eval.json"))["energy_distance"]
    return s, float((s < 0.5 * w).sum()), 0.5 * float(np.abs(s - w).sum()), energy


def cell(values, digits):
    v = np.array(values)
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} +- {v.std(ddof=1):.{digits}f}"


def row(out, names, label, weights):
    results = [scores(out, n, weights) for n in names]
    mass = np.mean([r[0] for r in results], axis=0)
    cells = " ".join(f"{v:.3f}" for v in mass)
    return (f"| {label} | {cells} | {cell([r[1] for r in results], 1)} | {cell([r[2] for r in results], 3)} "
            f"| {cell([r[3] for r in results], 4)} |")


def main():
    out, seeds, divergences = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
    for teacher, weights in WEIGHTS.items():
        print(f"\n{teacher} weights: " + " ".join(f"{w:g}" for w in weights) + "\n")
        print("| model | mean mass per mode (k = 0..7) | modes dropped | TV to weights | energy distance |")
        print("|---|---|---|---|---|")
        print(row(out, [teacher], "teacher (dopri5, NFE ~700)", weights))
        for d in divergences:
            print(row(out, [f"{teacher}_{d}_s{s}" for s in seeds], f"one step, {d}", weights))


if __name__ == "__main__":
    main()
