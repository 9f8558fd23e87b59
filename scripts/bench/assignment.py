#!/usr/bin/env python3
"""Optimal assignment: flowlab against SciPy and POT on the same costs (one thread).

For each size n: the squared Euclidean cost [n, n] between two Gaussian clouds
in --dim dimensions (a minibatch's exact OT coupling), or uniform [0, 1) costs
with --kind uniform, and an [n, 3n] rectangular problem with --rectangular.
Each flowlab binary (compiled by assignment.sh, one per revision) times
flowlab::ot::optimal_assignment; SciPy's linear_sum_assignment and POT's ot.emd
(uniform weights; its plan's support is an optimal permutation) are timed here.
Every time is the median of --repeats calls; the optimal values are checked to
agree (relative 1e-9), so a fast wrong answer cannot pass unnoticed.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import ot
from scipy.optimize import linear_sum_assignment


def cost(n, m, dim, kind, seed):
    rng = np.random.default_rng(seed)
    if kind == "uniform":
        return rng.random((n, m))
    x = rng.standard_normal((n, dim))
    y = rng.standard_normal((m, dim)) * 0.8 + 0.5
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def median_time(fn, repeats):
    times, value = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", type=int, nargs="*", default=[64, 256, 1024])
    parser.add_argument("--binary", action="append", default=[], metavar="NAME=PATH",
                        help="a flowlab timing binary (assignment_bench), repeatable")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--dim", type=int, default=2)
    parser.add_argument("--kind", choices=["sqeuclidean", "uniform"], default="sqeuclidean")
    parser.add_argument("--rectangular", action="store_true", help="also [n, 3n] problems (not for POT)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    binaries = [b.split("=", 1) for b in args.binary]

    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            for m in ([n, 3 * n] if args.rectangular else [n]):
                c = np.ascontiguousarray(cost(n, m, args.dim, args.kind, args.seed + n + m), dtype=np.float64)
                path = os.path.join(tmp, f"cost_{n}x{m}.bin")
                c.tofile(path)
                problems.append((n, m, c, path))
        flowlab = {}
        for name, path in binaries:
            command = [path, str(args.repeats)]
            for n, m, _, file in problems:
                command += [str(n), str(m), file]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            for line in out.split("\n"):
                if line.strip():
                    n, m, median, _, value = line.split()
                    flowlab[(name, int(n), int(m))] = (float(median), float(value))

        columns = [name for name, _ in binaries] + ["scipy", "POT emd"]
        print(f"# {args.kind} costs" + (f", dim {args.dim}" if args.kind == "sqeuclidean" else "")
              + f"; median of {args.repeats} calls, milliseconds; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
        print(f"{'n x m':>12}" + "".join(f"{c:>14}" for c in columns) + "   optimal value")
        failed = False
        for n, m, c, _ in problems:
            seconds, values = {}, {}
            for name, _ in binaries:
                seconds[name], values[name] = flowlab[(name, n, m)]

            def scipy_value():
                rows, cols = linear_sum_assignment(c)
                return c[rows, cols].sum()

            seconds["scipy"], values["scipy"] = median_time(scipy_value, args.repeats)
            if n == m:
                weights = np.full(n, 1.0 / n)

                def pot_value():
                    return n * float((ot.emd(weights, weights, c, numItermax=10**8) * c).sum())

                seconds["POT emd"], values["POT emd"] = median_time(pot_value, args.repeats)
            reference = values["scipy"]
            for name, value in values.items():
                if abs(value - reference) > 1e-9 * max(1.0, abs(reference)):
                    failed = True
                    print(f"MISMATCH {n}x{m}: {name} {value!r} vs scipy {reference!r}", file=sys.stderr)
            print(f"{f'{n} x {m}':>12}" + "".join(
                f"{seconds[c] * 1e3:>14.3f}" if c in seconds else f"{'-':>14}" for c in columns)
                + f"   {reference:.12g}")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
