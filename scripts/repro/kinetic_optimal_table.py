"""Markdown table of scripts/repro/kinetic_optimal.sh's results: python3 kinetic_optimal_table.py OUT PATH..."""
import json
import os
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def fmt(value, digits=3):
    return "n/a" if value is None else f"{value:.{digits}f}"


def main():
    out, paths = sys.argv[1], sys.argv[2:]
    steps = [2, 6, 10, 16, 50]
    head = ["path", "KE (lambda formula)", "KE (model, MC)", "NLL nats (bpd)"]
    head += [f"ED Euler {s}" for s in steps] + ["ED dopri5", "NFE dopri5"]
    rows = [head, ["---"] * len(head)]
    sw_head = ["path"] + [f"SW2 Euler {s}" for s in steps] + ["SW2 dopri5"]
    sw_rows = [sw_head, ["---"] * len(sw_head)]
    for p in paths:
        run = os.path.join(out, f"checkerboard_{p}")
        energy = load(os.path.join(run, "path_energy.json"))
        # The energy of the path the run trained on (for kinetic_optimal: its own table).
        own = next((v for k, v in energy.get("energy", {}).items() if k.startswith("this run")), None)
        model = energy.get("model_energy")
        model_se = energy.get("model_energy_se")
        nll = load(os.path.join(run, "eval_nll.json"))
        euler = [load(os.path.join(run, f"eval_euler{s}.json")) for s in steps]
        dopri = load(os.path.join(run, "eval_dopri5.json"))
        nll_text = "n/a" if "nll" not in nll else f"{nll['nll']:.3f} ± {nll['nll_se']:.3f} ({nll['bpd']:.3f})"
        model_text = "n/a" if model is None else f"{model:.3f} ± {model_se:.3f}"
        row = [p, fmt(own), model_text, nll_text]
        row += [fmt(e.get("energy_distance"), 4) for e in euler]
        row += [fmt(dopri.get("energy_distance"), 4), str(dopri.get("nfe", "n/a"))]
        rows.append(row)
        sw_rows.append([p] + [fmt(e.get("sliced_w2"), 4) for e in euler] + [fmt(dopri.get("sliced_w2"), 4)])
    for table in (rows, sw_rows):
        for r in table:
            print("| " + " | ".join(r) + " |")
        print()


if __name__ == "__main__":
    main()
