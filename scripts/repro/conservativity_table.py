"""Markdown table of scripts/repro/conservativity.sh's results: python3 conservativity_table.py OUT"""
import json
import os
import sys


def main():
    out = sys.argv[1]
    head = ["data", "model", "A(b) t=0.1/0.5/0.9", "circ R=0.1 t=0.5", "remainder share t=0.1/0.5/0.9",
            "refined share t=0.1/0.5/0.9",
            "ED learned", "ED grad phi", "SW2 learned", "SW2 grad phi", "ID score spectrum (mode, mean)",
            "ID flow Jacobian (mode, mean)"]
    rows = [head, ["---"] * len(head)]
    for data, true_id in (("moons", "1"), ("sphere", "2"), ("swiss_roll", "2"), ("sphere_r100", "2")):
        for model in ("mlp", "energy_mlp"):
            path = os.path.join(out, f"{data}_{model}", "diagnose.json")
            try:
                with open(path) as f:
                    d = json.load(f)
            except (OSError, ValueError):
                rows.append([data, model] + ["n/a"] * (len(head) - 2))
                continue
            velocity = {r["t"]: r for r in d["results"] if r["field"] == "velocity"}
            radii = d["radii"]
            k = radii.index(0.1) if 0.1 in radii else 0

            def at(t, key):
                r = velocity.get(t)
                return "n/a" if r is None or key not in r else f"{r[key]:.2g}"

            idd = d.get("intrinsic_dimension", {})
            flow = d.get("intrinsic_dimension_flow", {})
            rows.append([
                f"{data} (k = {true_id})", model,
                " / ".join(at(t, "asymmetry" if "asymmetry" in velocity.get(0.5, {}) else "asymmetry_randomized")
                           for t in (0.1, 0.5, 0.9)),
                "n/a" if 0.5 not in velocity else f"{velocity[0.5]['circulation'][k]:.2g}",
                " / ".join(at(t, "remainder_share") for t in (0.1, 0.5, 0.9)),
                " / ".join(at(t, "remainder_refined") for t in (0.1, 0.5, 0.9)),
                f"{d.get('learned_energy_distance', float('nan')):.4f}",
                f"{d.get('conservative_energy_distance', float('nan')):.4f}",
                f"{d.get('learned_sliced_w2', float('nan')):.4f}",
                f"{d.get('conservative_sliced_w2', float('nan')):.4f}",
                f"{idd.get('mode', 'n/a')}, {idd.get('mean', float('nan')):.2f}",
                f"{flow.get('mode', 'n/a')}, {flow.get('mean', float('nan')):.2f}",
            ])
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
