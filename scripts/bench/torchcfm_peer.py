#!/usr/bin/env python3
"""The peer of scripts/bench/torchcfm_compare.sh: torchcfm's own 2-D training loop.

As in torchcfm's examples (8 Gaussians -> moons): torchcfm.models.MLP(dim=2, w=W,
time_varying=True) (3 hidden layers of width W, SELU, t concatenated to x as one feature),
torch.optim.Adam(lr 1e-3), batch 256, x0 = torchcfm.utils.sample_8gaussians(256),
x1 = torchcfm.utils.sample_moons(256), ConditionalFlowMatcher(sigma=0) or
ExactOptimalTransportConditionalFlowMatcher(sigma=0), loss = mean((v - u)^2); no clipping,
no EMA, constant learning rate. Unlike the examples the loss is read back every step
(loss.item(), as flowlab does to stop on NaN).

--data torchcfm   x0, x1 from torchcfm.utils (sample_8gaussians builds each batch with a
                  Python loop over its 256 points; sample_moons is torchdyn's generate_moons:
                  n/2 points per moon on an even angle grid, one uniform shift added to both
                  coordinates of a point). torchcfm.utils imports matplotlib and torchdyn at the
                  top; when they are missing, stand-ins are installed first (matplotlib is only
                  used for plots; generate_moons is torchdyn's code, restated below).
--data vectorized the same two distributions drawn without the Python loop, to separate the
                  sampler's cost from the training step's.

Prints one JSON line: steps_per_s over the second half of the run (steps STEPS/2 .. STEPS-1,
the window of flowlab's second metrics.jsonl line when train.log_every = STEPS/2) and
loss_mean over the same steps. --write-pools DIR instead writes DIR/source.npy and
DIR/data.npy (POOL points each, drawn with torchcfm's samplers) for flowlab's npy datasets.
"""
import argparse
import json
import math
import sys
import time
import types

import numpy as np
import torch


def generate_moons(n_samples=100, noise=1e-4, **kwargs):
    """torchdyn.datasets.generate_moons (torchdyn 1.0), restated."""
    n_samples_out = n_samples // 2
    n_samples_in = n_samples - n_samples_out
    outer_circ_x = np.cos(np.linspace(0, np.pi, n_samples_out))
    outer_circ_y = np.sin(np.linspace(0, np.pi, n_samples_out))
    inner_circ_x = 1 - np.cos(np.linspace(0, np.pi, n_samples_in))
    inner_circ_y = 1 - np.sin(np.linspace(0, np.pi, n_samples_in)) - 0.5
    X = np.vstack([np.append(outer_circ_x, inner_circ_x), np.append(outer_circ_y, inner_circ_y)]).T
    y = np.hstack([np.zeros(n_samples_out, dtype=np.intp), np.ones(n_samples_in, dtype=np.intp)])
    if noise is not None:
        X += np.random.rand(n_samples, 1) * noise
    return torch.Tensor(X), torch.Tensor(y).long()


def import_torchcfm_utils():
    """torchcfm.utils, with stand-ins for its plotting-only imports when they are missing."""
    stubbed = []
    try:
        import matplotlib.pyplot  # noqa: F401
    except ImportError:
        matplotlib = types.ModuleType("matplotlib")
        matplotlib.pyplot = types.ModuleType("matplotlib.pyplot")
        sys.modules.update({"matplotlib": matplotlib, "matplotlib.pyplot": matplotlib.pyplot})
        stubbed.append("matplotlib")
    try:
        import torchdyn.datasets  # noqa: F401
    except ImportError:
        torchdyn = types.ModuleType("torchdyn")
        torchdyn.datasets = types.ModuleType("torchdyn.datasets")
        torchdyn.datasets.generate_moons = generate_moons
        sys.modules.update({"torchdyn": torchdyn, "torchdyn.datasets": torchdyn.datasets})
        stubbed.append("torchdyn")
    import torchcfm.utils

    return torchcfm.utils, stubbed


_CENTERS = torch.tensor([(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0),
                         (1 / math.sqrt(2), 1 / math.sqrt(2)), (1 / math.sqrt(2), -1 / math.sqrt(2)),
                         (-1 / math.sqrt(2), 1 / math.sqrt(2)), (-1 / math.sqrt(2), -1 / math.sqrt(2))])


def eight_gaussians_vectorized(n):
    """The law of torchcfm's sample_8gaussians(n): centres 5 x the above, covariance sqrt(0.1) I
    (torchcfm passes sqrt(var) I as the covariance, so the std per coordinate is 0.1 ** 0.25)."""
    k = torch.multinomial(torch.ones(8), n, replacement=True)
    return 5.0 * _CENTERS[k] + 0.1 ** 0.25 * torch.randn(n, 2)


def moons_vectorized(n):
    """sample_moons(n) = 3 generate_moons(n, noise=0.2) - 1, in torch."""
    n_out, n_in = n // 2, n - n // 2
    a, b = torch.linspace(0, math.pi, n_out), torch.linspace(0, math.pi, n_in)
    x = torch.cat([torch.cos(a), 1 - torch.cos(b)])
    y = torch.cat([torch.sin(a), 1 - torch.sin(b) - 0.5])
    return 3.0 * (torch.stack([x, y], 1) + 0.2 * torch.rand(n, 1)) - 1.0


class SiluMLP(torch.nn.Module):
    """torchcfm.models.MLP with SiLU instead of SELU (flowlab has no SELU)."""

    def __init__(self, dim, w):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(dim + 1, w), torch.nn.SiLU(), torch.nn.Linear(w, w),
                                       torch.nn.SiLU(), torch.nn.Linear(w, w), torch.nn.SiLU(), torch.nn.Linear(w, dim))

    def forward(self, x):
        return self.net(x)


def train(args):
    from torchcfm.conditional_flow_matching import (ConditionalFlowMatcher,
                                                    ExactOptimalTransportConditionalFlowMatcher)
    from torchcfm.models.models import MLP

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    stubbed = []
    if args.data == "torchcfm":
        utils, stubbed = import_torchcfm_utils()
        sample_source, sample_data = utils.sample_8gaussians, utils.sample_moons
    else:
        sample_source, sample_data = eight_gaussians_vectorized, moons_vectorized
    model = MLP(dim=2, w=args.width, time_varying=True) if args.activation == "selu" else SiluMLP(2, args.width)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    fm = ConditionalFlowMatcher(sigma=0.0) if args.variant == "cfm" else ExactOptimalTransportConditionalFlowMatcher(sigma=0.0)

    half = args.steps // 2
    start, window_loss = None, 0.0
    for step in range(args.steps):
        if step == half:
            start = time.perf_counter()
        optimizer.zero_grad()
        x0 = sample_source(args.batch)
        x1 = sample_data(args.batch)
        t, xt, ut = fm.sample_location_and_conditional_flow(x0, x1)
        vt = model(torch.cat([xt, t[:, None]], dim=-1))
        loss = torch.mean((vt - ut) ** 2)
        loss.backward()
        optimizer.step()
        value = loss.item()
        if not math.isfinite(value):
            raise RuntimeError(f"non-finite loss at step {step + 1}")
        if step >= half:
            window_loss += value
    elapsed = time.perf_counter() - start
    return {"variant": args.variant, "width": args.width, "data": args.data, "activation": args.activation,
            "threads": torch.get_num_threads(), "steps": args.steps, "window_steps": args.steps - half,
            "steps_per_s": (args.steps - half) / elapsed, "loss_mean": window_loss / (args.steps - half),
            "stubbed_imports": stubbed}


def write_pools(directory, size, seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    utils, stubbed = import_torchcfm_utils()
    chunk = 1 << 14
    source = torch.cat([utils.sample_8gaussians(min(chunk, size - i)) for i in range(0, size, chunk)])
    data = utils.sample_moons(size)  # one call: the finest angle grid
    np.save(f"{directory}/source.npy", source.numpy().astype(np.float32))
    np.save(f"{directory}/data.npy", data.numpy().astype(np.float32))
    print(json.dumps({"pool": size, "source": f"{directory}/source.npy", "data": f"{directory}/data.npy",
                      "stubbed_imports": stubbed}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", choices=["cfm", "otcfm"], default="cfm")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", choices=["torchcfm", "vectorized"], default="torchcfm")
    parser.add_argument("--activation", choices=["selu", "silu"], default="selu",
                        help="selu: torchcfm.models.MLP itself; silu: the same MLP with flowlab's activation")
    parser.add_argument("--write-pools", metavar="DIR", help="write DIR/source.npy and DIR/data.npy and exit")
    parser.add_argument("--pool", type=int, default=1 << 17, help="points per pool (--write-pools)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.write_pools:
        write_pools(args.write_pools, args.pool, args.seed)
    else:
        if args.steps < 2:
            parser.error("--steps must be >= 2")
        print(json.dumps(train(args)))
