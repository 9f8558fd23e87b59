"""The README's image table from scripts/repro/fashion_mnist_images.sh's JSON files.

Usage: images_table.py OUT PATH [PATH ...]
"""
import json
import math
import os
import re
import sys


def scores(path):
    with open(path) as f:
        s = json.load(f)
    return s, s.get("scores", s)


def sample_batch_size(run):
    """sample.batch_size of a run's config.yaml (samples are drawn in chunks of it)."""
    with open(os.path.join(run, "config.yaml")) as f:
        text = f.read()
    sample = re.search(r"^sample:(.*?)(?=^\S)", text + "\nend:", re.S | re.M).group(1)
    return int(re.search(r"batch_size: *(\d+)", sample).group(1))


def main():
    out, paths = sys.argv[1], sys.argv[2:]
    with open(os.path.join(out, "features.json")) as f:
        features = json.load(f)
    features = features.get("scores", features)
    print(f"feature network: test accuracy {features['accuracy']:.4f}")
    print()
    print("| path | guidance | solver | NFE | Fréchet distance | precision | recall | class accuracy |")
    print("|---|---|---|---|---|---|---|---|")
    for path in paths:
        for w in (1, 2):
            for solver in ("euler1", "euler2", "euler4", "euler8", "euler16", "dopri5"):
                name = os.path.join(out, f"unet_{path}_w{w}_{solver}.json")
                if not os.path.exists(name):
                    continue
                top, s = scores(name)
                label = "dopri5" if solver == "dopri5" else f"Euler {solver[5:]}"
                # "nfe" sums the field evaluations of every chunk of sample.batch_size samples.
                chunks = math.ceil(top["n"] / sample_batch_size(os.path.join(out, f"unet_{path}")))
                nfe = top["nfe"] / chunks
                nfe = f"{nfe:.0f}" if nfe == int(nfe) else f"{nfe:.1f}"
                print(f"| {path} | {w} | {label} | {nfe} | {s['frechet']:.2f} | {s['precision']:.3f} | "
                      f"{s['recall']:.3f} | {s['class_accuracy']:.3f} |")
    print()
    for path in paths:
        name = os.path.join(out, f"unet_{path}_bpd.json")
        if os.path.exists(name):
            top, s = scores(name)
            print(f"{path}: bits/dim {s['bpd']:.3f} +- {s['bpd_se']:.3f} over {top.get('nll_points')} test images "
                  f"(uniform dequantisation, Hutchinson, {int(s['nll_nfe'])} field evaluations)")


if __name__ == "__main__":
    main()
