#!/usr/bin/env python3
"""The peer of flowlab's `model.type: unet`: the same ADM/DDPM-style U-Net in Python PyTorch (eager).

Used as an oracle (parameter counts, FLOP counts, forward values once weights are
shared) and by scripts/bench/unet_bench.py for timing. Importable:

    sys.path.insert(0, "scripts/bench"); import unet_peer
    net = unet_peer.UNet(1, 32, (1, 2, 2), 1, (7,), 28)
    unet_peer.count_parameters(net); unet_peer.count_flops(dict(...), batch=1)

Run as a script it prints the parameter counts of DDPM's CIFAR-10 network (Ho et al. 2020,
"35.7 M parameters") with scale_shift False and True, and the parameter and FLOP counts of
the Fashion-MNIST bench config:

    python3 scripts/bench/unet_peer.py [--json]

Architecture (see the docstrings below; the layer order is what flowlab must match):
time embedding sin/cos(w_k * 1000 t) -> Linear(C, 4C) -> SiLU -> Linear(4C, 4C) (+ class
embedding of K + 1 rows, row K the null class); input conv 3x3; encoder of ResBlocks (+ self
attention at the listed resolutions) with a skip stack; middle ResBlock, attention, ResBlock;
decoder of num_res_blocks + 1 ResBlocks per level on [h, skip] concatenations; output
GroupNorm -> SiLU -> zero-initialised conv 3x3.

Numerical conventions: GroupNorm eps is PyTorch's default 1e-5 (DDPM's TensorFlow code used
1e-6; ADM uses 1e-5); the sinusoid frequencies are 10000^(-k / (C/2)) applied to 1000 t
(DDPM uses 10000^(-k / (C/2 - 1)) on the integer timestep, which changes values, not counts).
"""
import argparse
import json
import math

import torch
import torch.nn.functional as F
from torch import nn


def zero_module(module):
    """Set every parameter of module to zero and return it."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


def timestep_features(t, dim):
    """Sinusoidal features of s = 1000 t: [sin(w_k s) for k < dim/2, cos(w_k s) for k < dim/2], w_k = 10000^(-k/(dim/2))."""
    half = dim // 2
    k = torch.arange(half, dtype=torch.float32, device=t.device)
    freqs = torch.exp(-math.log(10000.0) * k / half)
    angles = 1000.0 * t.float()[:, None] * freqs[None, :]
    feats = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if dim % 2:
        feats = F.pad(feats, (0, 1))
    return feats


class ResBlock(nn.Module):
    """GroupNorm -> SiLU -> [up/down on h and x] -> conv3x3, time embedding (additive or scale/shift),
    GroupNorm -> SiLU -> Dropout -> zero conv3x3, plus skip (identity or 1x1 conv)."""

    def __init__(self, cin, cout, emb_dim, dropout=0.0, groups=32, scale_shift=True, up=False, down=False):
        super().__init__()
        assert not (up and down)
        self.up, self.down, self.scale_shift = up, down, scale_shift
        self.in_norm = nn.GroupNorm(groups, cin)
        self.in_conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb_linear = nn.Linear(emb_dim, 2 * cout if scale_shift else cout)
        self.out_norm = nn.GroupNorm(groups, cout)
        self.dropout = nn.Dropout(dropout)
        self.out_conv = zero_module(nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def _resample(self, x):
        if self.up:
            return F.interpolate(x, scale_factor=2, mode="nearest")
        if self.down:
            return F.avg_pool2d(x, 2)
        return x

    def forward(self, x, emb):
        h = F.silu(self.in_norm(x))
        if self.up or self.down:
            h = self._resample(h)
            x = self._resample(x)
        h = self.in_conv(h)
        emb_out = self.emb_linear(F.silu(emb))[:, :, None, None]
        if self.scale_shift:
            scale, shift = emb_out.chunk(2, dim=1)
            h = self.out_norm(h) * (1 + scale) + shift
        else:
            h = self.out_norm(h + emb_out)
        h = self.out_conv(self.dropout(F.silu(h)))
        return self.skip(x) + h


class AttentionBlock(nn.Module):
    """x + zero_conv1x1(attention(qkv_conv1x1(GroupNorm(x)))), heads over channel groups."""

    def __init__(self, channels, num_heads=1, head_channels=0, groups=32):
        super().__init__()
        self.heads = channels // head_channels if head_channels > 0 else num_heads
        assert channels % self.heads == 0, f"{channels} channels do not split into {self.heads} heads"
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = zero_module(nn.Conv2d(channels, channels, 1))

    def forward(self, x):
        b, c, hh, ww = x.shape
        d = c // self.heads
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, d, hh * ww)
        q, k, v = qkv.unbind(1)  # each [B, heads, d, HW]
        weight = torch.einsum("bhdt,bhds->bhts", q, k) / math.sqrt(d)
        weight = torch.softmax(weight, dim=-1)  # over keys s
        out = torch.einsum("bhts,bhds->bhdt", weight, v).reshape(b, c, hh, ww)
        return x + self.proj(out)


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class UNet(nn.Module):
    """ADM/DDPM-style U-Net: forward(x [B, C, H, W], t [B] in [0, 1], labels [B] int64 or None) -> [B, outputs*C, H, W].

    labels: class indices 0..K-1, or -1 for the null class (row K of the class embedding);
    None with num_classes > 0 means the null class for every example.
    """

    def __init__(self, in_channels, channels, channel_mult, num_res_blocks, attention_resolutions, image_size,
                 num_heads=1, head_channels=0, dropout=0.0, groups=32, scale_shift=True, resblock_updown=False,
                 num_classes=0, outputs=1):
        super().__init__()
        self.channels, self.num_classes = channels, num_classes
        emb_dim = 4 * channels
        attention_resolutions = set(attention_resolutions)
        self.time_mlp = nn.Sequential(nn.Linear(channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.class_emb = nn.Embedding(num_classes + 1, emb_dim) if num_classes > 0 else None

        def res(cin, cout, **kw):
            return ResBlock(cin, cout, emb_dim, dropout, groups, scale_shift, **kw)

        def attn(c):
            return AttentionBlock(c, num_heads, head_channels, groups)

        self.input_conv = nn.Conv2d(in_channels, channels, 3, padding=1)
        # Encoder: a flat list of stages; each stage is a ModuleList applied in order, its output pushed on hs.
        self.down = nn.ModuleList()
        skip_channels = [channels]
        cur, resolution = channels, image_size
        for level, mult in enumerate(channel_mult):
            out = mult * channels
            for _ in range(num_res_blocks):
                stage = [res(cur, out)]
                cur = out
                if resolution in attention_resolutions:
                    stage.append(attn(cur))
                self.down.append(nn.ModuleList(stage))
                skip_channels.append(cur)
            if level != len(channel_mult) - 1:
                self.down.append(nn.ModuleList([res(cur, cur, down=True) if resblock_updown else Downsample(cur)]))
                resolution //= 2
                skip_channels.append(cur)
        self.middle = nn.ModuleList([res(cur, cur), attn(cur), res(cur, cur)])
        # Decoder: each stage consumes one skip (concatenated before its first ResBlock).
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            out = mult * channels
            for block in range(num_res_blocks + 1):
                stage = [res(cur + skip_channels.pop(), out)]
                cur = out
                if resolution in attention_resolutions:
                    stage.append(attn(cur))
                if level != 0 and block == num_res_blocks:
                    stage.append(res(cur, cur, up=True) if resblock_updown else Upsample(cur))
                    resolution *= 2
                self.up.append(nn.ModuleList(stage))
        assert not skip_channels
        self.out_norm = nn.GroupNorm(groups, channels)
        self.out_conv = zero_module(nn.Conv2d(channels, outputs * in_channels, 3, padding=1))

    @staticmethod
    def _run_stage(stage, h, emb):  # not _apply: nn.Module.to() calls _apply
        for layer in stage:
            h = layer(h, emb) if isinstance(layer, ResBlock) else layer(h)
        return h

    def forward(self, x, t, labels=None):
        emb = self.time_mlp(timestep_features(t, self.channels))
        if self.class_emb is not None:
            if labels is None:
                labels = torch.full((x.shape[0],), -1, dtype=torch.long, device=x.device)
            labels = torch.where(labels < 0, torch.full_like(labels, self.num_classes), labels)
            emb = emb + self.class_emb(labels)
        h = self.input_conv(x)
        hs = [h]
        for stage in self.down:
            h = self._run_stage(stage, h, emb)
            hs.append(h)
        h = self._run_stage(self.middle, h, emb)
        for stage in self.up:
            h = self._run_stage(stage, torch.cat([h, hs.pop()], dim=1), emb)
        return self.out_conv(F.silu(self.out_norm(h)))


def count_parameters(model):
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_flops(model_kwargs, batch=1, in_shape=None):
    """Forward multiply-accumulates of UNet(**model_kwargs) on a [batch, in_channels, S, S] input
    (S = image_size unless in_shape = (C, H, W) is given), counted from the layer shapes:
    Conv2d Cout*Cin/groups*kh*kw per output pixel, Linear in*out per row, and the two attention
    matmuls (q^T k and weights times v) 2*HW*HW*c per image. Norms, activations, softmax,
    resampling and additions are not counted. Embedding lookups are free.

    Returns {"macs", "flops" = 2*macs, "flops_per_image", "train_flops_per_image"} for the
    forward pass; backward is taken as 2x forward, so a training step is ~3x forward FLOPs.
    """
    model = UNet(**model_kwargs)
    c = model_kwargs["in_channels"]
    s = model_kwargs["image_size"]
    shape = tuple(in_shape) if in_shape is not None else (c, s, s)
    macs = [0]

    def conv_hook(m, inputs, out):
        macs[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def linear_hook(m, inputs, out):
        macs[0] += out.numel() * m.in_features

    def attention_hook(m, inputs, out):
        b, ch, hh, ww = inputs[0].shape
        hw = hh * ww
        macs[0] += b * 2 * hw * hw * ch

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, AttentionBlock):
            handles.append(m.register_forward_hook(attention_hook))
    model.eval()
    with torch.no_grad():
        x = torch.zeros(batch, *shape)
        t = torch.full((batch,), 0.5)
        labels = torch.zeros(batch, dtype=torch.long) if model_kwargs.get("num_classes", 0) > 0 else None
        model(x, t, labels)
    for h in handles:
        h.remove()
    flops = 2 * macs[0]
    return {"macs": macs[0], "flops": flops, "flops_per_image": flops / batch,
            "train_flops_per_image": 3 * flops / batch}


DDPM_CIFAR10 = dict(in_channels=3, channels=128, channel_mult=(1, 2, 2, 2), num_res_blocks=2,
                    attention_resolutions=(16,), image_size=32, dropout=0.1, scale_shift=False, num_heads=1)
DDPM_CIFAR10_PARAMS = 35_746_307

# The Fashion-MNIST bench config (configs/images/fashion_mnist_unet_bench.yaml must match).
FASHION_BENCH = dict(in_channels=1, channels=32, channel_mult=(1, 2, 2), num_res_blocks=1,
                     attention_resolutions=(7,), image_size=28, dropout=0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of text")
    args = parser.parse_args()
    torch.set_num_threads(1)
    report = {}
    for ss in (False, True):
        report[f"ddpm_cifar10_scale_shift_{str(ss).lower()}"] = count_parameters(UNet(**{**DDPM_CIFAR10, "scale_shift": ss}))
    report["ddpm_cifar10_expected"] = DDPM_CIFAR10_PARAMS
    for ss in (True, False):
        kw = {**FASHION_BENCH, "scale_shift": ss}
        tag = f"fashion_bench_scale_shift_{str(ss).lower()}"
        report[tag + "_params"] = count_parameters(UNet(**kw))
        report[tag + "_forward_flops_per_image"] = count_flops(kw)["flops_per_image"]
    kw = {**FASHION_BENCH, "num_classes": 10}
    report["fashion_bench_classes10_params"] = count_parameters(UNet(**kw))
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:52s} {value:,.0f}")
    got = report["ddpm_cifar10_scale_shift_false"]
    print("DDPM CIFAR-10 count", "matches" if got == DDPM_CIFAR10_PARAMS else f"differs by {got - DDPM_CIFAR10_PARAMS:+,}")


if __name__ == "__main__":
    main()
