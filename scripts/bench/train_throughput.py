#!/usr/bin/env python3
"""The peer of `flowlab train configs/toy/moons.yaml`: the same loop in Python PyTorch.

Same data (two moons, scale 2, noise 0.05), source N(0, I), CondOT path, MLP
([x, sinusoidal(t)] -> width x3, SiLU), flow-matching MSE, AdamW with a cosine
schedule and warm-up, gradient clipping at 1, EMA 0.999, and the loss read back
every step (flowlab reads it to stop on NaN). Prints steps/s over the second
half of the run, and the measured GEMM rate for the hardware floor.
"""
import argparse
import math
import time

import torch


class Mlp(torch.nn.Module):
    def __init__(self, width, emb_dim=64):
        super().__init__()
        half = emb_dim // 2
        self.register_buffer("freq", 1000.0 * torch.exp(-math.log(10000.0) * torch.arange(half) / half))
        dims = [2 + emb_dim, width, width, width]
        self.hidden = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = torch.nn.Linear(width, 2)

    def forward(self, x, t):
        angles = t[:, None] * self.freq[None, :]
        h = torch.cat([x, torch.sin(angles), torch.cos(angles)], 1)
        for layer in self.hidden:
            h = torch.nn.functional.silu(layer(h))
        return self.out(h)


def moons(n, gen):
    lower = torch.randint(0, 2, (n,), generator=gen).float()
    theta = torch.rand(n, generator=gen) * math.pi
    ux, uy = torch.cos(theta), torch.sin(theta)
    x = torch.where(lower > 0, 1.0 - ux, ux) - 0.5
    y = torch.where(lower > 0, 0.5 - uy, uy) - 0.25
    return 2.0 * torch.stack([x, y], 1) + 0.05 * torch.randn(n, 2, generator=gen)


def train(width, steps, batch, device, warmup=500, compile_net=False):
    # Like flowlab: data, times and noise are drawn on the CPU from one generator, then moved.
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    net, ema = Mlp(width).to(device), Mlp(width).to(device)
    ema.load_state_dict(net.state_dict())
    if compile_net:
        net = torch.compile(net)  # PyTorch 2.x
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0)
    params = list(net.parameters())
    start = None
    for step in range(steps):
        if step == steps // 2:
            start = time.perf_counter()
        factor = (step + 1) / warmup if step < warmup else 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))
        for g in opt.param_groups:
            g["lr"] = 1e-3 * factor
        x1 = moons(batch, gen).to(device)
        x0 = torch.randn(batch, 2, generator=gen).to(device)
        t = torch.rand(batch, generator=gen).to(device)
        xt = (1 - t)[:, None] * x0 + t[:, None] * x1
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(xt, t), x1 - x0)
        if not math.isfinite(loss.item()):
            raise RuntimeError("non-finite loss")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            for e, p in zip(ema.parameters(), params):
                e.mul_(0.999).add_(p, alpha=0.001)
    return (steps - steps // 2) / (time.perf_counter() - start)


def synchronize(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def gemm_rate(width, batch, device):
    """FLOP/s of the step's dominant GEMM shape, [batch, width] x [width, width]."""
    a, b = torch.randn(batch, width, device=device), torch.randn(width, width, device=device)
    for _ in range(20):
        a @ b
    reps = 2000
    synchronize(device)
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    synchronize(device)
    return 2.0 * batch * width * width * reps / (time.perf_counter() - start)


def step_flops(width, batch, emb_dim=64):
    dims = [2 + emb_dim, width, width, width, 2]
    forward = sum(2.0 * batch * a * b for a, b in zip(dims[:-1], dims[1:]))
    return 3.0 * forward  # backward costs about twice the forward


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--threads", type=int, default=0, help="intra-op threads; 0: torch's default")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compile", action="store_true", help="torch.compile the network (PyTorch 2.x)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    rate = train(args.width, args.steps, args.batch, args.device, compile_net=args.compile)
    floor = gemm_rate(args.width, args.batch, args.device) / step_flops(args.width, args.batch)
    print(f"python_steps_per_s {rate:.1f} gemm_floor_steps_per_s {floor:.1f}")
