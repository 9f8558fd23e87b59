#!/usr/bin/env python3
"""The Sinkhorn divergence in flowlab and in POT, side by side.

For each size n = m and dimension d: two Gaussian clouds (unit scale, shifted),
the debiased divergence W(x, y) - (W(x, x) + W(y, y)) / 2 with POT's convention
(cost |x - y|^2, value <P, C>), at the same eps, tolerance and iteration cap:

  flowlab    `flowlab ot x.npy y.npy --metric sinkhorn --value transport --json --repeat R`
             (its own compute time, without process start and file reading: the
             best of R computations in one process, as POT's is the best of R calls;
             "cold s" is a fresh process's first computation, which also pays for
             first-touching its memory)
  POT numpy  ot.bregman.empirical_sinkhorn_divergence on numpy arrays
  POT torch  the same on torch tensors (POT's torch backend, same LibTorch)

POT stops on the L2 norm of the marginal error, checked every 10 updates;
flowlab on the L1 norm, every update, so flowlab's stop is the stricter one.
Prints times, ratios, and both values; the hardware floor is one matrix-vector
product per half-update at the measured GEMV bandwidth.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import ot
import torch

warnings.filterwarnings("ignore")


def clouds(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) / np.sqrt(d) * np.sqrt(2)
    y = rng.standard_normal((n, d)) / np.sqrt(d) * np.sqrt(2) * 0.8 + 0.5 / np.sqrt(d)
    return x, y


def timed(fn, repeats):
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def gemv_seconds(n):
    """Seconds of one float64 n x n matrix-vector product (the floor of a half-update)."""
    a = torch.randn(n, n, dtype=torch.float64)
    v = torch.randn(n, dtype=torch.float64)
    torch.mv(a, v)
    start = time.perf_counter()
    for _ in range(5):
        torch.mv(a, v)
    return (time.perf_counter() - start) / 5


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flowlab", default=os.path.join(os.path.dirname(__file__), "../../build/flowlab"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 64])
    parser.add_argument("--eps", type=float, default=0.05)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--max-iter", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=2, help="best of R computations, on each side")
    parser.add_argument("--skip-pot-torch-above", type=int, default=10000)
    parser.add_argument("--json", help="also write the rows as JSON")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count())
    threads = torch.get_num_threads()
    print(f"threads {threads}; eps {args.eps}, tolerance {args.tolerance}, max {args.max_iter} updates; POT {ot.__version__}, torch {torch.__version__}")
    header = f"{'n':>6} {'d':>3} | {'flowlab s':>9} {'cold s':>7} {'POT np s':>9} {'POT torch s':>11} | {'x POT np':>8} {'x POT torch':>11} | {'flowlab value':>14} {'POT value':>14} {'iters':>6} {'floor s':>8}"
    print(header)
    print("-" * len(header))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in args.dims:
            for n in args.sizes:
                x, y = clouds(n, d, seed=n + d)
                fx, fy = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
                np.save(fx, x)
                np.save(fy, y)
                command = [args.flowlab, "ot", fx, fy, "--metric", "sinkhorn", "--value", "transport", "--eps",
                           str(args.eps), "--tolerance", str(args.tolerance), "--max-iter", str(args.max_iter), "--json"]

                def run_flowlab(repeat):
                    out = subprocess.run(command + ["--repeat", str(repeat)], capture_output=True, text=True)
                    if out.returncode not in (0, 1) or not out.stdout.strip():
                        sys.exit("flowlab failed: " + out.stderr)
                    return json.loads(out.stdout)

                cold_s = run_flowlab(1)["seconds"]
                result = run_flowlab(args.repeats)
                flowlab_s = result["seconds"]

                def pot_numpy():
                    return float(ot.bregman.empirical_sinkhorn_divergence(x, y, args.eps, numIterMax=args.max_iter,
                                                                          stopThr=args.tolerance))

                pot_np_s, pot_value = timed(pot_numpy, args.repeats)
                pot_torch_s = float("nan")
                if n <= args.skip_pot_torch_above:
                    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

                    def pot_torch():
                        return float(ot.bregman.empirical_sinkhorn_divergence(xt, yt, args.eps,
                                                                              numIterMax=args.max_iter,
                                                                              stopThr=args.tolerance))

                    pot_torch_s, _ = timed(pot_torch, args.repeats)
                floor = 2 * result["iterations"] * gemv_seconds(n)
                row = dict(n=n, d=d, flowlab_s=flowlab_s, flowlab_cold_s=cold_s, pot_numpy_s=pot_np_s, pot_torch_s=pot_torch_s,
                           flowlab_value=result["value"], pot_value=pot_value, iterations=result["iterations"],
                           converged=result["converged"], floor_s=floor)
                rows.append(row)
                print(f"{n:>6} {d:>3} | {flowlab_s:>9.3f} {cold_s:>7.3f} {pot_np_s:>9.3f} {pot_torch_s:>11.3f} | "
                      f"{pot_np_s / flowlab_s:>8.1f} {pot_torch_s / flowlab_s:>11.1f} | {result['value']:>14.8f} "
                      f"{pot_value:>14.8f} {result['iterations']:>6} {floor:>8.3f}", flush=True)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=1)


if __name__ == "__main__":
    main()
