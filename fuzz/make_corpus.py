#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/corpus/ that need no flowlab build: YAML configs with
overrides, .npy arrays, IDX files. Images come from fuzz/make_images.c (stb_image_write), the
format-3 checkpoint from `FLOWLAB_FUZZ_WRITE_SEED=FILE fuzz_checkpoint`. Pure Python (no
numpy): the byte layouts are written out here, which is what the readers must accept."""
import gzip
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(ROOT)


def out(target, name, data):
    folder = os.path.join(ROOT, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------------ config
def config_seeds():
    picks = {
        "moons": ("configs/toy/moons.yaml", ["train.steps=5", "model.hidden=[8, 8]"]),
        "to_moons": ("configs/toy/8gaussians_to_moons.yaml", ["train.batch_size=16"]),
        "checkerboard_ko": ("configs/toy/checkerboard_ko.yaml", []),
        "monge_map": ("configs/toy/monge_map.yaml", ["train.steps=3"]),
        "conditional": ("configs/toy/8gaussians_conditional.yaml", ["sample.guidance=2"]),
        "onestep": ("configs/distill/mixture8_onestep.yaml", []),
    }
    for name, (path, overrides) in picks.items():
        with open(os.path.join(REPO, path), "rb") as f:
            text = f.read()
        if overrides:
            text += b"\n%%\n" + "\n".join(overrides).encode() + b"\n"
        out("config", name + ".yaml", text)
    out("config", "minimal.yaml", b"data: {type: toy2d, name: moons}\nmodel: {type: mlp, hidden: [4]}\n")


# ------------------------------------------------------------------ npy
def npy(descr, shape, payload, fortran=False, version=1):
    shape_text = "(" + "".join(f"{d}, " for d in shape).rstrip(" ")
    if len(shape) != 1:
        shape_text = shape_text.rstrip(",")
    shape_text += ")"
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
    prefix = 6 + 2 + (2 if version == 1 else 4)
    pad = (64 - (prefix + len(header) + 1) % 64) % 64
    header = (header + " " * pad + "\n").encode()
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header + payload


def npy_seeds():
    out("npy", "f4_2x3.npy", npy("<f4", (2, 3), struct.pack("<6f", 0, 1, 2, 3, -4.5, 1e30)))
    out("npy", "f8_3.npy", npy("<f8", (3,), struct.pack("<3d", 1, float("nan"), -0.0)))
    out("npy", "f2_2.npy", npy("<f2", (2,), struct.pack("<2e", 1.5, -2)))
    out("npy", "i8_big_endian.npy", npy(">i8", (2, 1), struct.pack(">2q", -1, 2**40)))
    out("npy", "u1_fortran.npy", npy("|u1", (2, 2), bytes([1, 2, 3, 4]), fortran=True))
    out("npy", "b1_4.npy", npy("|b1", (4,), bytes([0, 1, 0, 7])))
    out("npy", "i2_scalar.npy", npy("<i2", (), struct.pack("<h", -7)))
    out("npy", "i4_empty_v2.npy", npy("<i4", (0, 5), b"", version=2))
    out("npy", "i1_v3.npy", npy("|i1", (1, 1, 3), bytes([255, 0, 127]), version=3))


# ------------------------------------------------------------------ IDX
def idx(shape, payload):
    return bytes([0, 0, 8, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape) + payload


def idx_seeds():
    images = idx((2, 3, 3), bytes(range(18)))
    out("idx", "images_2x3x3.idx", images)
    out("idx", "labels_4.idx", idx((4,), bytes([0, 9, 3, 1])))
    out("idx", "images_2x3x3.idx.gz", gzip.compress(images, mtime=0))
    out("idx", "empty_0x28x28.idx", idx((0, 28, 28), b""))


config_seeds()
npy_seeds()
idx_seeds()
