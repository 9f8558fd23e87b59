#!/usr/bin/env python3
"""The peer of scripts/bench/sampling_compare.sh: a flowlab run's velocity field in Python PyTorch,
integrated by torchdiffeq.

The network is rebuilt from the run's config.yaml and its checkpoint (a torch::serialize archive,
which torch.jit.load reads as a module whose parameters are named
"modules.model.network.*" and, for the EMA, "ema_modules.model.network.*"). flowlab samples with
the EMA weights unless sample.use_ema is false; so does this peer. Supported: model.type mlp
(no residual, no classes, one field predicting the velocity) on a path whose velocity is the
network output (cond_ot with a Gaussian source): v(x, t) = out(act(...act(L0([x, emb(t)]))...)),
emb(t) = [sin(t f), cos(t f)] with f the checkpoint's own frequency buffer (sinusoidal:
scale * exp(-log(max_period) k / half), k = 0..half-1; checked against the config), or emb(t) = t
for time_embedding.type identity. The network runs in float32 as flowlab's does.

Subcommands (each prints one JSON line):
  data    N moons points drawn like flowlab's toy2d moons with the run's scale and noise -> --out
  sample  n samples from N(0, I) at t = 0 to t = 1: fixed-step (euler, midpoint, heun = torchdiffeq's
          heun2, rk4 = torchdiffeq's rk4, which is the 3/8 rule, not flowlab's classic tableau) on the
          grid linspace(0, 1, steps + 1), or dopri5 with --rtol/--atol (torchdiffeq's error norm is
          one RMS over the whole batch; flowlab's is per sample). Times the source draw and the solve,
          cold (the first call of the process), under torch.no_grad().
  nll     negative log-likelihood of the points of --data by the backward ODE from t = 1 to 0 of the
          augmented state [x, int div v dt] in float64 (as flowlab keeps it; the network sees float32),
          the divergence exact: one vector-Jacobian product per dimension (FFJORD's brute-force trace);
          log p(x) = log N(x(0); 0, I) + int_1^0 div v dt.
  check   the loaded weights: parameter count and the frequency buffer against the config's formula.
"""
import argparse
import glob
import json
import math
import os
import time

import numpy as np
import torch
import torchdiffeq
import yaml

TORCHDIFFEQ_NAMES = {"euler": "euler", "midpoint": "midpoint", "heun": "heun2", "rk4": "rk4", "dopri5": "dopri5"}
ACTIVATIONS = {"silu": torch.nn.functional.silu, "relu": torch.relu, "gelu": torch.nn.functional.gelu,
               "tanh": torch.tanh, "softplus": torch.nn.functional.softplus}


def read_config(run):
    with open(os.path.join(run, "config.yaml")) as f:
        return yaml.safe_load(f)


def newest_checkpoint(run):
    files = sorted(glob.glob(os.path.join(run, "checkpoints", "step_*.pt")))
    if not files:
        raise SystemExit(f"sampling_peer.py: no checkpoint in {run}/checkpoints")
    return files[-1]


class Field(torch.nn.Module):
    """The velocity network of a flowlab mlp run, weights taken from a checkpoint."""

    def __init__(self, run, checkpoint=None, weights="auto"):
        super().__init__()
        cfg = read_config(run)
        model = cfg["model"]
        problems = []
        if model.get("type") != "mlp":
            problems.append(f"model.type {model.get('type')} (mlp only)")
        if model.get("residual", False):
            problems.append("model.residual true")
        if int(model.get("num_classes", 0) or 0) != 0:
            problems.append("a class-conditional model")
        if model.get("predicts", "velocity") != "velocity" or model.get("also_predicts", "none") != "none":
            problems.append("fields other than one velocity")
        if cfg.get("path", {}).get("type") != "cond_ot" or cfg.get("source", {}).get("type", "gaussian") != "gaussian":
            problems.append("a path other than cond_ot from a Gaussian source")
        if problems:
            raise SystemExit("sampling_peer.py: unsupported run: " + ", ".join(problems))
        self.checkpoint = checkpoint or newest_checkpoint(run)
        use_ema = cfg.get("sample", {}).get("use_ema", True) if weights == "auto" else weights == "ema"
        self.weights = "ema" if use_ema else "model"
        archive = torch.jit.load(self.checkpoint, map_location="cpu")
        tensors = dict(archive.named_parameters())
        tensors.update(dict(archive.named_buffers()))
        prefix = ("ema_modules" if use_ema else "modules") + ".model.network."
        mine = {k[len(prefix):]: v.detach().clone().float() for k, v in tensors.items() if k.startswith(prefix)}
        hidden = model["hidden"]
        self.layers = torch.nn.ModuleList()
        for i, width in enumerate(hidden):
            w, b = mine.pop(f"layers.{i}.weight"), mine.pop(f"layers.{i}.bias")
            assert w.shape[0] == width, (w.shape, width)
            layer = torch.nn.Linear(w.shape[1], w.shape[0])
            layer.weight.data.copy_(w)
            layer.bias.data.copy_(b)
            self.layers.append(layer)
        w, b = mine.pop("output.weight"), mine.pop("output.bias")
        self.output = torch.nn.Linear(w.shape[1], w.shape[0])
        self.output.weight.data.copy_(w)
        self.output.bias.data.copy_(b)
        embedding = model.get("time_embedding", {})
        self.embedding_type = embedding.get("type", "sinusoidal")
        freq = mine.pop("time_embedding.frequencies", None)
        if self.embedding_type == "identity":
            assert freq is None
            self.register_buffer("freq", torch.zeros(0))
        else:
            self.register_buffer("freq", freq)
        if mine:
            raise SystemExit(f"sampling_peer.py: unexpected tensors in the checkpoint: {sorted(mine)}")
        self.act = ACTIVATIONS[model.get("activation", "silu")]
        self.activation = model.get("activation", "silu")
        self.embedding = embedding
        self.dim = self.output.out_features
        self.data = cfg["data"]
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x, t):
        """x [B, d] float32, t [B] float32 -> v [B, d]."""
        if self.embedding_type == "identity":
            h = torch.cat([x, t[:, None]], 1)
        else:
            angles = t[:, None] * self.freq[None, :]
            h = torch.cat([x, torch.sin(angles), torch.cos(angles)], 1)
        for layer in self.layers:
            h = self.act(layer(h))
        return self.output(h)

    def formula_frequencies(self):
        if self.embedding_type != "sinusoidal":
            return None
        half = self.freq.numel()
        k = torch.arange(half, dtype=torch.float32)
        return float(self.embedding.get("scale", 1000)) * torch.exp(
            -math.log(float(self.embedding.get("max_period", 10000))) * k / half)


class Counted:
    """func(t, y) for torchdiffeq, counting calls."""

    def __init__(self, f):
        self.f, self.nfe = f, 0

    def __call__(self, t, y):
        self.nfe += 1
        return self.f(t, y)


def odeint(func, y0, t_grid, solver, rtol, atol):
    if solver == "dopri5":
        return torchdiffeq.odeint(func, y0, t_grid[[0, -1]], method="dopri5", rtol=rtol, atol=atol)[-1]
    return torchdiffeq.odeint(func, y0, t_grid, method=TORCHDIFFEQ_NAMES[solver])[-1]


def cmd_data(args):
    field_cfg = read_config(args.run)["data"]
    if field_cfg.get("type") != "toy2d" or field_cfg.get("name", "moons") != "moons":
        raise SystemExit("sampling_peer.py data: only toy2d moons runs")
    scale, noise = float(field_cfg.get("scale", 2.0)), float(field_cfg.get("noise", 0.1))
    gen = torch.Generator().manual_seed(args.seed)
    n = args.n
    lower = torch.randint(0, 2, (n,), generator=gen).float()
    theta = torch.rand(n, generator=gen) * math.pi
    ux, uy = torch.cos(theta), torch.sin(theta)
    x = torch.where(lower > 0, 1.0 - ux, ux) - 0.5
    y = torch.where(lower > 0, 0.5 - uy, uy) - 0.25
    points = scale * torch.stack([x, y], 1) + noise * torch.randn(n, 2, generator=gen)
    np.save(args.out, points.numpy().astype(np.float32))
    print(json.dumps({"out": args.out, "n": n, "scale": scale, "noise": noise}))


def cmd_check(args):
    field = Field(args.run, args.checkpoint, args.weights)
    out = {"checkpoint": field.checkpoint, "weights": field.weights, "activation": field.activation,
           "time_embedding": field.embedding_type, "parameters": sum(p.numel() for p in field.parameters())}
    expected = field.formula_frequencies()
    if expected is not None:
        out["frequencies_max_rel_diff"] = float(((field.freq - expected).abs() / expected.abs()).max())
    print(json.dumps(out))


def cmd_sample(args):
    field = Field(args.run, args.checkpoint, args.weights)
    n, d = args.n, field.dim
    func = Counted(lambda t, x: field(x, t.to(torch.float32).expand(x.shape[0])))
    t_grid = torch.linspace(0.0, 1.0, args.steps + 1)
    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        start = time.perf_counter()
        x0 = torch.randn(n, d, generator=gen)
        x1 = odeint(func, x0, t_grid, args.solver, args.rtol, args.atol)
        seconds = time.perf_counter() - start
    if args.out:
        np.save(args.out, x1.numpy())
    x = x1.double()
    out = {"solver": args.solver, "torchdiffeq_method": TORCHDIFFEQ_NAMES[args.solver], "n": n,
           "steps": args.steps if args.solver != "dopri5" else None, "rtol": args.rtol, "atol": args.atol,
           "threads": torch.get_num_threads(), "seconds": seconds, "nfe": func.nfe,
           "mean": x.mean(0).tolist(), "cov": torch.cov(x.T).flatten().tolist(), "weights": field.weights}
    print(json.dumps(out))


def cmd_nll(args):
    field = Field(args.run, args.checkpoint, args.weights)
    points = torch.from_numpy(np.load(args.data)).float()
    n, d = points.shape

    def augmented(t, state):
        with torch.enable_grad():
            x = state[:, :d].to(torch.float32).detach().requires_grad_(True)
            v = field(x, t.to(torch.float32).expand(x.shape[0]))
            divergence = torch.zeros(x.shape[0])
            for i in range(d):
                (g,) = torch.autograd.grad(v[:, i].sum(), x, retain_graph=i + 1 < d)
                divergence += g[:, i]
        return torch.cat([v.detach().double(), divergence.double()[:, None]], 1)

    func = Counted(augmented)
    t_grid = torch.linspace(1.0, 0.0, args.steps + 1, dtype=torch.float64)
    start = time.perf_counter()
    state0 = torch.cat([points.double(), torch.zeros(n, 1, dtype=torch.float64)], 1)
    end = odeint(func, state0, t_grid, args.solver, args.rtol, args.atol)
    z = end[:, :d]
    log_p = -0.5 * (z ** 2).sum(1) - 0.5 * d * math.log(2 * math.pi) + end[:, d]
    seconds = time.perf_counter() - start
    nll = -log_p
    print(json.dumps({"solver": args.solver, "n": n, "steps": args.steps if args.solver != "dopri5" else None,
                      "rtol": args.rtol, "atol": args.atol, "threads": torch.get_num_threads(), "seconds": seconds,
                      "nfe": func.nfe, "nll": float(nll.mean()), "nll_se": float(nll.std() / math.sqrt(n)),
                      "weights": field.weights}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--run", required=True, help="flowlab run directory")
    common.add_argument("--checkpoint", help="checkpoint file (default: the newest)")
    common.add_argument("--weights", choices=["auto", "ema", "model"], default="auto",
                        help="auto: EMA unless the run's sample.use_ema is false (as flowlab samples)")
    common.add_argument("--threads", type=int, default=1)
    solve = argparse.ArgumentParser(add_help=False)
    solve.add_argument("--solver", choices=sorted(TORCHDIFFEQ_NAMES), default="euler")
    solve.add_argument("--steps", type=int, default=50)
    solve.add_argument("--rtol", type=float, default=1e-5)
    solve.add_argument("--atol", type=float, default=1e-5)
    p = sub.add_parser("data", parents=[common])
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    sub.add_parser("check", parents=[common])
    p = sub.add_parser("sample", parents=[common, solve])
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="also write the samples (.npy)")
    p = sub.add_parser("nll", parents=[common, solve])
    p.add_argument("--data", required=True, help=".npy of points [n, d]")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    {"data": cmd_data, "check": cmd_check, "sample": cmd_sample, "nll": cmd_nll}[args.command](args)
