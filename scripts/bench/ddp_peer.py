"""PyTorch's DistributedDataParallel on the step that scripts/bench/ddp.sh times in flowlab:
flow matching on 2-D points, an MLP of 4 hidden layers of WIDTH (SiLU) on [x, sinusoidal
t-embedding of 64], AdamW, batch BATCH per process, Gloo, one thread per process.
Run under torchrun (any number of processes, 1 included); rank 0 prints the steps/s over the
second half of the run. DDP's defaults: 25 MB buckets, overlapped with backward.
"""
import argparse
import math
import os
import time

import torch
import torch.distributed as dist


def embed(t, dim=64):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half) / half)
    angles = t[:, None] * 1000.0 * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=256, help="per process")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--allreduce-only", action="store_true",
                        help="time Gloo's all-reduce of the model's gradient size alone (median ms of 20)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("gloo")
    torch.manual_seed(0)
    w = args.width
    layers, width_in = [], 2 + 64
    for _ in range(4):
        layers += [torch.nn.Linear(width_in, w), torch.nn.SiLU()]
        width_in = w
    model = torch.nn.Sequential(*layers, torch.nn.Linear(w, 2))
    if args.allreduce_only:
        grads = torch.ones(sum(p.numel() for p in model.parameters()))
        for _ in range(3):
            dist.all_reduce(grads)
        times = []
        for _ in range(20):
            begin = time.perf_counter()
            dist.all_reduce(grads)
            times.append(time.perf_counter() - begin)
        if dist.get_rank() == 0:
            print(f"{sorted(times)[10] * 1e3:.2f} {grads.numel() * 4 / 1e6:.2f}")
        dist.destroy_process_group()
        return
    if distributed:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    start = None
    for step in range(args.steps):
        if step == args.steps // 2:
            start = time.perf_counter()
        x1 = torch.randn(args.batch, 2)
        x0 = torch.randn(args.batch, 2)
        t = torch.rand(args.batch)
        xt = (1 - t[:, None]) * x0 + t[:, None] * x1
        loss = torch.nn.functional.mse_loss(model(torch.cat([xt, embed(t)], 1)), x1 - x0)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    rate = (args.steps - args.steps // 2) / (time.perf_counter() - start)
    if not distributed or dist.get_rank() == 0:
        print(f"{rate:.3f}")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
