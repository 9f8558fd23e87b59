#!/usr/bin/env python3
"""Python PyTorch (eager) timing of the U-Net of scripts/bench/unet_peer.py on Fashion-MNIST [B, 1, 28, 28].

train:  conditional-OT flow matching steps on real Fashion-MNIST images (drawn with replacement
        each step; labels too when --num-classes > 0): x0 ~ N(0, I), x1 = data, t ~ U(0, 1),
        x_t = (1 - t) x0 + t x1, target x1 - x0, mean squared error, Adam(lr 2e-4):
        zero_grad / backward / step. One "step" is one optimizer step of --batch images.
sample: Euler with --sample-steps K steps from N(0, I) through the network, eval mode, no_grad.
        One "step" is one batch of --batch images integrated from t = 0 to 1 (K evaluations).

Prints one JSON line: mode, images_per_s, seconds, steps, batch, threads, torch, flops_per_image
(train: 3 x forward, i.e. backward taken as 2 x forward; sample: K x forward) and
forward_flops_per_image. The --warmup steps are run first and not timed. Peak memory is
measured by scripts/bench/unet_speed.sh, not here.

Usage:
  python3 scripts/bench/unet_bench.py --mode train|sample [--channels 32] [--channel-mult 1,2,2]
      [--num-res-blocks 1] [--attention 7] [--batch 64] [--steps N] [--warmup W] [--threads 1]
      [--sample-steps K] [--num-classes 0] [--label-drop 0] [--dropout 0] [--no-scale-shift]
      [--data PATH] [--seed 0]
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unet_peer  # noqa: E402

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path, header):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=header)


def load_fashion_mnist(images_path, with_labels):
    pixels = read_idx(images_path, 16)
    images = torch.from_numpy(pixels.astype(np.float32).reshape(-1, 1, 28, 28) / 127.5 - 1.0)
    labels = None
    if with_labels:
        labels_path = images_path.replace("images-idx3", "labels-idx1")
        labels = torch.from_numpy(read_idx(labels_path, 8).astype(np.int64))
        assert labels.shape[0] == images.shape[0], (labels.shape, images.shape)
    return images, labels


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="U-Net flow-matching train / Euler sample throughput in PyTorch eager")
    p.add_argument("--mode", choices=["train", "sample"], required=True)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--channel-mult", default="1,2,2", help="comma-separated multipliers")
    p.add_argument("--num-res-blocks", type=int, default=1)
    p.add_argument("--attention", default="7", help="comma-separated attention resolutions ('' for none)")
    p.add_argument("--num-heads", type=int, default=1)
    p.add_argument("--head-channels", type=int, default=0)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--no-scale-shift", action="store_true", help="additive time embedding instead of scale/shift")
    p.add_argument("--resblock-updown", action="store_true")
    p.add_argument("--num-classes", type=int, default=0)
    p.add_argument("--label-drop", type=float, default=0.0,
                   help="train: probability of replacing a label by the null class (-1)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=20, help="timed steps (train: optimizer steps; sample: batches)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--sample-steps", type=int, default=20, help="Euler steps per sample")
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--data", default=os.path.join(DATA_DIR, "train-images-idx3-ubyte.gz"))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--bf16", action="store_true", help="autocast to bfloat16 (forward and loss), float32 weights")
    p.add_argument("--npy", default="", help="images [N, C, H, W] in [-1, 1] from a .npy file instead of --data")
    return p.parse_args(argv)


def image_shape(args):
    if args.npy:
        return tuple(np.load(args.npy, mmap_mode="r").shape[1:])
    return (1, 28, 28)


def load_images(args):
    if args.npy:
        return torch.from_numpy(np.load(args.npy).astype(np.float32)), None
    return load_fashion_mnist(args.data, args.num_classes > 0)


def model_kwargs(args):
    ints = lambda s: tuple(int(v) for v in s.split(",") if v.strip())  # noqa: E731
    c, h, _ = image_shape(args)
    return dict(in_channels=c, channels=args.channels, channel_mult=ints(args.channel_mult),
                num_res_blocks=args.num_res_blocks, attention_resolutions=ints(args.attention), image_size=h,
                num_heads=args.num_heads, head_channels=args.head_channels, dropout=args.dropout,
                scale_shift=not args.no_scale_shift, resblock_updown=args.resblock_updown,
                num_classes=args.num_classes)


def run_train(net, args, gen):
    images, labels = load_images(args)
    dev = torch.device(args.device)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    net.train()
    b = args.batch
    start = None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            start = time.perf_counter()
        idx = torch.randint(0, images.shape[0], (b,), generator=gen)
        x1 = images[idx]
        y = None
        if labels is not None:
            y = labels[idx]
            if args.label_drop > 0:
                drop = torch.rand(b, generator=gen) < args.label_drop
                y = torch.where(drop, torch.full_like(y, -1), y)
        x0 = torch.randn(x1.shape, generator=gen)
        t = torch.rand(b, generator=gen)
        x0, x1, t = x0.to(dev), x1.to(dev), t.to(dev)
        y = y.to(dev) if y is not None else None
        tt = t[:, None, None, None]
        xt = (1 - tt) * x0 + tt * x1
        opt.zero_grad()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.bf16):
            loss = torch.nn.functional.mse_loss(net(xt, t, y), x1 - x0)
        loss.backward()
        opt.step()
    loss.item()
    return time.perf_counter() - start


def run_sample(net, args, gen):
    net.eval()
    b, k = args.batch, args.sample_steps
    dt = 1.0 / k
    start = None
    with torch.no_grad():
        for step in range(args.warmup + args.steps):
            if step == args.warmup:
                start = time.perf_counter()
            dev = torch.device(args.device)
            x = torch.randn((b,) + image_shape(args), generator=gen).to(dev)
            y = torch.randint(0, args.num_classes, (b,), generator=gen).to(dev) if args.num_classes > 0 else None
            for i in range(k):
                t = torch.full((b,), i * dt, device=dev)
                with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.bf16):
                    v = net(x, t, y)
                x = x + dt * v.float()
            x.cpu()
    return time.perf_counter() - start


def main(argv=None):
    args = parse_args(argv)
    if args.steps < 1:
        raise SystemExit("--steps must be >= 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    kw = model_kwargs(args)
    net = unet_peer.UNet(**kw).to(args.device)
    forward = unet_peer.count_flops(kw, batch=1)["flops_per_image"]
    if args.mode == "train":
        seconds = run_train(net, args, gen)
        flops = 3 * forward  # backward taken as 2 x forward
    else:
        seconds = run_sample(net, args, gen)
        flops = args.sample_steps * forward
    out = {"mode": args.mode, "images_per_s": args.steps * args.batch / seconds, "seconds": seconds,
           "steps": args.steps, "batch": args.batch, "threads": torch.get_num_threads(), "torch": torch.__version__,
           "flops_per_image": flops, "forward_flops_per_image": forward,
           "parameters": unet_peer.count_parameters(net)}
    if args.mode == "sample":
        out["sample_steps"] = args.sample_steps
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
