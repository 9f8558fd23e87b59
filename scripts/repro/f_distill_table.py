#!/usr/bin/env python3
"""The f-distill mode-coverage table of scripts/repro/f_distill_2d.sh.

  f_distill_table.py OUT DIVERGENCE...

For the uniform and unequal teachers and each divergence's one-step generator: the share of
samples whose nearest centre is mode k (modes ordered as the weights), the modes dropped (share
below half the weight), the total variation between shares and weights, and the energy distance
of eval.json.
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


def row(out, name, label, weights):
    x = np.load(f"{out}/{name}/samples.npy")
    s = shares(x)
    w = np.array(weights)
    dropped = int((s < 0.5 * w).sum())
    tv = 0.5 * np.abs(s - w).sum()
    energy = json.load(open(f"{out}/{name}/eval.json"))["energy_distance"]
    cells = " ".join(f"{v:.3f}" for v in s)
    return f"| {label} | {cells} | {dropped} | {tv:.3f} | {energy:.4f} |"


def main():
    out, divergences = sys.argv[1], sys.argv[2:]
    for teacher, weights in WEIGHTS.items():
        print(f"\n{teacher} weights: " + " ".join(f"{w:g}" for w in weights) + "\n")
        print("| model | mass per mode (k = 0..7) | modes dropped | TV to weights | energy distance |")
        print("|---|---|---|---|---|")
        print(row(out, teacher, "teacher (dopri5)", weights))
        for d in divergences:
            print(row(out, f"{teacher}_{d}", f"one step, {d}", weights))


if __name__ == "__main__":
    main()
