#!/usr/bin/env python3
"""Helpers of scripts/bench/unet_speed.sh: parse flowlab's outputs, measure the matmul rate,
measure peak RSS without /usr/bin/time, and print the summary table.

  unet_speed_lib.py train-rate METRICS_JSONL BATCH      images/s: median steps_per_s after the first logged line, x BATCH
  unet_speed_lib.py sample-rate LOG N                   images/s: N / seconds of flowlab sample's "... rejected steps, X s ->" line
  unet_speed_lib.py json-field FILE KEY                 one key of the (last) JSON line of FILE
  unet_speed_lib.py gflops THREADS [SIZE] [REPEATS]     float32 matmul GFLOP/s (SIZE x SIZE, default 1024) at THREADS threads
  unet_speed_lib.py rusage OUT -- CMD...                run CMD, write its peak RSS (KiB, RUSAGE_CHILDREN) to OUT, exit with its status
  unet_speed_lib.py table RESULTS GFLOPS                summary table of RESULTS (lines: side mode images_per_s rss_kib flops_per_image)
  unet_speed_lib.py selftest                            checks of the functions above on synthetic inputs
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

SAMPLE_LINE = re.compile(r"field evaluations, \d+ rejected steps, ([0-9.eE+-]+) s ->")


def train_rate(metrics_path, batch):
    """Median steps_per_s of the metrics.jsonl lines after the first (warm-up) line, times batch."""
    rates = []
    with open(metrics_path) as f:
        for line in f:
            line = line.strip()
            if line:
                rates.append(float(json.loads(line)["steps_per_s"]))
    if len(rates) < 2:
        raise ValueError(f"{metrics_path}: {len(rates)} logged line(s); need a warm-up line and at least one more "
                         "(train.steps must be >= 2 x train.log_every)")
    return statistics.median(rates[1:]) * batch


def sample_rate(log_text, n):
    """n / seconds, the seconds read from flowlab sample's summary line (the last one if several)."""
    found = SAMPLE_LINE.findall(log_text)
    if not found:
        raise ValueError("no '... field evaluations, ... rejected steps, X s -> ...' line in the flowlab sample log")
    seconds = float(found[-1])
    if seconds <= 0:
        raise ValueError(f"flowlab sample reported {seconds} s (too short to time: raise N)")
    return n / seconds


def json_field(path, key):
    last = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                last = json.loads(line)
    if last is None:
        raise ValueError(f"{path}: no JSON line")
    return last[key]


def matmul_gflops(threads, size=1024, repeats=10):
    """Best-of-repeats float32 size x size matmul rate (2 size^3 FLOPs each) at threads threads."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    out = torch.empty(size, size)
    for _ in range(2):
        torch.mm(a, b, out=out)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size ** 3 / best / 1e9


def rusage_run(out_path, cmd):
    import resource

    status = subprocess.call(cmd)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    with open(out_path, "w") as f:
        f.write(f"{peak}\n")
    return status


def read_results(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 5:
                side, mode, rate, rss, flops = parts
                rows.append((side, mode, float(rate), float(rss), float(flops)))
    return rows


def table(rows, gflops):
    """Per mode: median images/s of flowlab and python, ratio, median peak RSS (MiB), FLOP floor images/s."""
    lines = [f"{'mode':7s} {'flowlab_img/s':>14s} {'python_img/s':>13s} {'ratio':>6s} "
             f"{'flowlab_MiB':>12s} {'python_MiB':>11s} {'GFLOP/img':>10s} {'floor_img/s':>12s} {'runs':>5s}"]
    modes = []
    for r in rows:
        if r[1] not in modes:
            modes.append(r[1])
    for mode in modes:
        def med(side, col):
            vals = [r[col] for r in rows if r[0] == side and r[1] == mode]
            return statistics.median(vals) if vals else float("nan")

        fl, py = med("flowlab", 2), med("python", 2)
        fl_rss, py_rss = med("flowlab", 3) / 1024, med("python", 3) / 1024
        flops = med("python", 4)
        if flops != flops:  # no python row: take flowlab's copy
            flops = med("flowlab", 4)
        floor = gflops * 1e9 / flops if flops > 0 else float("nan")
        ratio = fl / py if py > 0 else float("nan")
        runs = "%d/%d" % (sum(r[0] == "flowlab" and r[1] == mode for r in rows),
                          sum(r[0] == "python" and r[1] == mode for r in rows))
        lines.append(f"{mode:7s} {fl:14.1f} {py:13.1f} {ratio:6.2f} {fl_rss:12.0f} {py_rss:11.0f} "
                     f"{flops / 1e9:10.3f} {floor:12.1f} {runs:>5s}")
    lines.append(f"floor = {gflops:.1f} GFLOP/s (1024x1024 float32 matmul at the same threads) / FLOPs per image "
                 "(train: 3 x forward; sample: K x forward)")
    return "\n".join(lines)


def selftest():
    with tempfile.TemporaryDirectory() as d:
        m = os.path.join(d, "metrics.jsonl")
        with open(m, "w") as f:
            for step, rate in [(10, 0.5), (20, 1.0), (30, 1.2), (40, 1.1)]:
                f.write(json.dumps({"step": step, "loss": 1.0, "steps_per_s": rate}) + "\n")
        assert abs(train_rate(m, 64) - 1.1 * 64) < 1e-9
        with open(m, "w") as f:
            f.write(json.dumps({"step": 10, "steps_per_s": 1.0}) + "\n")
        try:
            train_rate(m, 64)
            raise AssertionError("one line accepted")
        except ValueError:
            pass
        log = ("[2024-01-01 00:00:00.000] [info] 256 samples from runs/x/checkpoints/step_60.pt (step 60) with euler: "
               "5120 field evaluations, 0 rejected steps, 12.80 s -> runs/x/samples/samples.npy\n")
        assert abs(sample_rate(log, 256) - 20.0) < 1e-9
        try:
            sample_rate("nothing here", 1)
            raise AssertionError("bad log accepted")
        except ValueError:
            pass
        j = os.path.join(d, "py.json")
        with open(j, "w") as f:
            f.write("noise\n" + json.dumps({"images_per_s": 3.5, "flops_per_image": 7.0}) + "\n")
        assert json_field(j, "images_per_s") == 3.5
        r = os.path.join(d, "results")
        with open(r, "w") as f:
            f.write("flowlab train 60 1000 1.2e9\npython train 50 2000 1.2e9\nflowlab train 70 1100 1.2e9\n"
                    "python train 40 2100 1.2e9\nflowlab sample 20 500 7.6e9\npython sample 25 400 7.6e9\n")
        out = table(read_results(r), 60.0)
        print(out)
        assert " 65.0 " in out and " 45.0 " in out and "1.44" in out and " 50.0" in out
        rss = os.path.join(d, "rss")
        assert rusage_run(rss, [sys.executable, "-c", "x = bytearray(50 * 2**20)"]) == 0
        assert int(open(rss).read()) > 50 * 1024
    print("selftest ok")


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    cmd, args = argv[0], argv[1:]
    if cmd == "train-rate":
        print(f"{train_rate(args[0], int(args[1])):.4f}")
    elif cmd == "sample-rate":
        with open(args[0]) as f:
            print(f"{sample_rate(f.read(), int(args[1])):.4f}")
    elif cmd == "json-field":
        print(json_field(args[0], args[1]))
    elif cmd == "gflops":
        size = int(args[1]) if len(args) > 1 else 1024
        repeats = int(args[2]) if len(args) > 2 else 10
        print(f"{matmul_gflops(int(args[0]), size, repeats):.2f}")
    elif cmd == "rusage":
        if len(args) < 3 or args[1] != "--":
            raise SystemExit("usage: unet_speed_lib.py rusage OUT -- CMD...")
        sys.exit(rusage_run(args[0], args[2:]))
    elif cmd == "table":
        print(table(read_results(args[0]), float(args[1])))
    elif cmd == "selftest":
        selftest()
    else:
        raise SystemExit(f"unknown command {cmd!r}\n{__doc__}")


if __name__ == "__main__":
    main(sys.argv[1:])
