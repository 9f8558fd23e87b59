"""flowlab's networks in plain PyTorch, to use exported weights without flowlab.

`scripts/export.py RUN_DIR` writes `model.pt` (a state_dict: a dict of tensors), `config.yaml`
and `config.json` (the run's resolved config) and `export.json` (what the config alone does not
say: the sample shape, the classes, which weights). Then, with only torch installed:

    import sys; sys.path.insert(0, "scripts")       # or copy this one file anywhere
    import flowlab_models
    model = flowlab_models.load_exported("exported/")   # build_model + load_state_dict, eval()
    fields = model(x, t)                    # {"velocity": tensor shaped like x, ...}
    fields = model(x, t, labels)            # class-conditional; label -1 (or None) = null class

or by hand: `model = flowlab_models.build_model(config, sample_shape=..., num_classes=...)`
then `model.load_state_dict(torch.load("model.pt"))`.

Each module here computes what flowlab's C++ module of the same name computes
(include/flowlab/nn/*.h, src/nn/*.cpp), with the same parameter and buffer names and shapes:

- `mlp`: [flatten(x), embed(t) (+ class embedding)] -> hidden Linear layers, each followed by
  the activation (and + its input where `residual` and the widths agree) -> Linear; the output
  reshaped like x with the fields stacked along dimension 1.
- `unet`: the ADM/DDPM U-Net of include/flowlab/nn/unet.h.
- `energy_mlp`, `energy`: the field is -grad_x E (computed with autograd in forward).
- classifiers (`task: classifier` / `distill_classifier`): `mlp`, `cnn`.

Works with torch 1.13 and 2.x; needs nothing else (PyYAML is used when present to read YAML, and
a small reader of the YAML that flowlab writes is used otherwise).
"""
import json
import math
import os
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

PREDICTIONS = ("velocity", "noise", "data", "denoiser", "score", "interpolant_velocity")
ACTIVATIONS = ("silu", "relu", "gelu", "tanh", "softplus")
FLOW_TASKS = ("flow_matching", "monge_map", "onestep_distill")
CLASSIFIER_TASKS = ("classifier", "distill_classifier")


# --- config helpers ---------------------------------------------------------------------------

def _int(value, key):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("config key %s: expected an integer, got %r" % (key, value))
    number = float(value)
    if number != int(number):
        raise ValueError("config key %s: expected an integer, got %r" % (key, value))
    return int(number)


def _float(value, key):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError("config key %s: expected a number, got %r" % (key, value))


def _bool(value, key):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
        return value.lower() in ("true", "yes", "on")
    raise ValueError("config key %s: expected true or false, got %r" % (key, value))


def _ints(value, key):
    if not isinstance(value, (list, tuple)):
        raise ValueError("config key %s: expected a list of integers, got %r" % (key, value))
    return [_int(v, key) for v in value]


def _section(config, key):
    value = (config or {}).get(key)
    return value if isinstance(value, dict) else {}


# --- YAML -----------------------------------------------------------------------------------------

def read_yaml(text):
    """The YAML text as Python values: PyYAML's safe_load when installed, else read_yaml_subset."""
    try:
        import yaml  # noqa: F401
    except ImportError:
        return read_yaml_subset(text)
    return yaml.safe_load(text)


_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_INT = re.compile(r"^[-+]?\d+$")


def _scalar(text):
    text = text.strip()
    if text == "" or text in ("~", "null", "Null", "NULL"):
        return None
    if text[0] in "\"'":
        quote = text[0]
        if len(text) < 2 or text[-1] != quote:
            raise ValueError("unterminated string %s" % text)
        body = text[1:-1]
        if quote == "'":
            return body.replace("''", "'")
        return json.loads('"' + body + '"')
    if text in ("true", "True", "TRUE"):
        return True
    if text in ("false", "False", "FALSE"):
        return False
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text) and re.search(r"[.eE]", text):
        return float(text)
    if text in (".inf", "+.inf"):
        return float("inf")
    if text == "-.inf":
        return float("-inf")
    if text == ".nan":
        return float("nan")
    return text


def _strip_comment(line):
    """The line without a trailing comment (a # outside quotes, after a space or at the start)."""
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'" and (i == 0 or line[i - 1] in " \t[{,:"):
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line.rstrip()


class _Flow:
    """A reader of one flow collection ({a: 1, b: [2, 3]}) or scalar."""

    def __init__(self, text):
        self.text, self.pos = text, 0

    def _skip(self):
        while self.pos < len(self.text) and self.text[self.pos] in " \t\n":
            self.pos += 1

    def value(self):
        self._skip()
        c = self.text[self.pos] if self.pos < len(self.text) else ""
        if c == "{":
            self.pos += 1
            out = {}
            while True:
                self._skip()
                if self.text[self.pos] == "}":
                    self.pos += 1
                    return out
                key = self.scalar(":")
                if self.text[self.pos] != ":":
                    raise ValueError("expected ':' in %s" % self.text)
                self.pos += 1
                out[key] = self.value()
                self._skip()
                if self.text[self.pos] == ",":
                    self.pos += 1
        if c == "[":
            self.pos += 1
            out = []
            while True:
                self._skip()
                if self.text[self.pos] == "]":
                    self.pos += 1
                    return out
                out.append(self.value())
                self._skip()
                if self.text[self.pos] == ",":
                    self.pos += 1
        return self.scalar(",]}")

    def scalar(self, stops):
        self._skip()
        start = self.pos
        if self.pos < len(self.text) and self.text[self.pos] in "\"'":
            quote = self.text[self.pos]
            self.pos += 1
            while self.pos < len(self.text):
                if self.text[self.pos] == "\\" and quote == '"':
                    self.pos += 2
                    continue
                if self.text[self.pos] == quote:
                    if quote == "'" and self.text[self.pos + 1:self.pos + 2] == "'":
                        self.pos += 2
                        continue
                    break
                self.pos += 1
            self.pos += 1
            return _scalar(self.text[start:self.pos])
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in stops and (c != ":" or self.text[self.pos + 1:self.pos + 2] in (" ", "")):
                break
            self.pos += 1
        return _scalar(self.text[start:self.pos])


def _flow_value(text):
    reader = _Flow(text)
    value = reader.value()
    reader._skip()
    if reader.pos != len(text):
        raise ValueError("unexpected text after %s" % text[:reader.pos])
    return value


def _split_key(content):
    """(key, rest) of 'key: rest' or 'key:'; None when content is not a mapping entry."""
    reader = _Flow(content)
    if content[:1] in "[{":
        return None
    key = reader.scalar(":")
    if reader.pos < len(content) and content[reader.pos] == ":":
        return key, content[reader.pos + 1:].strip()
    return None


def read_yaml_subset(text):
    """The YAML that flowlab writes (yaml-cpp's emitter: block mappings and sequences by
    indentation, flow collections {..} [..] on one or more lines, plain and quoted scalars,
    comments), without PyYAML."""
    lines = []
    for raw in text.splitlines():
        if raw.strip() in ("---", "...") or not _strip_comment(raw).strip():
            continue
        lines.append((len(raw) - len(raw.lstrip(" ")), _strip_comment(raw).strip()))
    pos = [0]

    def flow_continued(first, indent):
        # A flow collection may span lines: join until its brackets balance.
        text = first
        while text.count("[") + text.count("{") > text.count("]") + text.count("}"):
            if pos[0] >= len(lines):
                raise ValueError("unterminated flow collection %s" % first)
            text += " " + lines[pos[0]][1]
            pos[0] += 1
        return _flow_value(text)

    def block(indent):
        if pos[0] >= len(lines):
            return None
        if lines[pos[0]][1].startswith("- ") or lines[pos[0]][1] == "-":
            out = []
            while pos[0] < len(lines) and lines[pos[0]][0] == indent and (
                    lines[pos[0]][1].startswith("- ") or lines[pos[0]][1] == "-"):
                content = lines[pos[0]][1][1:].strip()
                pos[0] += 1
                if not content:
                    out.append(block(lines[pos[0]][0]) if pos[0] < len(lines) and lines[pos[0]][0] > indent else None)
                elif _split_key(content) or content.startswith("- ") or content == "-":
                    # "- key: value" starts a mapping indented past the dash, "- - x" a sequence.
                    lines.insert(pos[0], (indent + 2, content))
                    out.append(block(indent + 2))
                else:
                    out.append(flow_continued(content, indent))
            return out
        out = {}
        while pos[0] < len(lines) and lines[pos[0]][0] == indent:
            content = lines[pos[0]][1]
            entry = _split_key(content)
            if entry is None:
                raise ValueError("expected 'key: value', got %r" % content)
            key, rest = entry
            pos[0] += 1
            if rest:
                out[key] = flow_continued(rest, indent)
            elif pos[0] < len(lines) and (lines[pos[0]][0] > indent or (
                    lines[pos[0]][0] == indent and lines[pos[0]][1].startswith("-"))):
                out[key] = block(lines[pos[0]][0])
            else:
                out[key] = None
        return out

    if not lines:
        return None
    if lines[0][0] == 0 and _split_key(lines[0][1]) is None and not lines[0][1].startswith("-"):
        return flow_continued(lines.pop(0)[1], 0)
    value = block(lines[0][0])
    if pos[0] != len(lines):
        raise ValueError("could not read the YAML from line %r on" % (lines[pos[0]][1],))
    return value


# --- the sample shape -----------------------------------------------------------------------

def sample_shape_from_config(config, run_dir=None):
    """The shape of one data sample ([2], [1, 28, 28], ...) that flowlab builds the networks
    for, from the `data:` section (the defaults of src/data/*.cpp); None where it cannot tell."""
    data = _section(config, "data")
    kind = data.get("type")
    if kind == "toy2d":
        return [2]
    if kind == "gaussian_mixture" and "dim" in data:
        return [_int(data["dim"], "data.dim")]
    if kind == "manifold":
        return [_int(data.get("ambient_dim", 3), "data.ambient_dim")]
    if kind == "fashion_mnist":
        return [784] if data.get("shape", "image") == "flat" else [1, 28, 28]
    if kind == "cifar10":
        return [3, 32, 32]
    if kind == "image_folder" and "size" in data:
        size = data["size"]
        hw = [_int(size, "data.size")] * 2 if not isinstance(size, list) else _ints(size, "data.size")
        if len(hw) == 1:
            hw = hw * 2
        return [_int(data.get("channels", 3), "data.channels")] + hw
    if kind == "npy" and "path" in data:
        for candidate in (data["path"], os.path.join(run_dir or "", str(data["path"]))):
            if os.path.isfile(candidate):
                return list(_npy_shape(candidate)[1:])
    return None


def _npy_shape(path):
    """The shape in a .npy file's header (no numpy needed)."""
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise ValueError("%s is not a .npy file" % path)
        major = f.read(2)[0]
        length = int.from_bytes(f.read(2 if major == 1 else 4), "little")
        header = f.read(length).decode("latin1")
    found = re.search(r"'shape':\s*\(([^)]*)\)", header)
    return tuple(int(v) for v in found.group(1).replace(" ", "").split(",") if v)


# --- time embedding ----------------------------------------------------------------------------

class TimeEmbedding(nn.Module):
    """sinusoidal: [sin(w_k t), cos(w_k t)], w_k = scale * max_period^(-k / (dim/2));
    fourier: the same with w_k = 2 pi std N(0, 1) draws (seeded); identity: t itself.
    The frequencies are the buffer `frequencies` (in flowlab's checkpoints too)."""

    def __init__(self, options, default_dim=64):
        super().__init__()
        options = options or {}
        self.kind = options.get("type", "sinusoidal")
        if self.kind not in ("sinusoidal", "fourier", "identity"):
            raise ValueError("time_embedding.type: unknown %r" % self.kind)
        if self.kind == "identity":
            self.dim = 1
            return
        self.dim = _int(options.get("dim", default_dim), "time_embedding.dim")
        half = self.dim // 2
        if self.kind == "fourier":
            generator = torch.Generator().manual_seed(_int(options.get("seed", 0), "time_embedding.seed"))
            draws = torch.randn(half, generator=generator, dtype=torch.float32)
            frequencies = 2.0 * math.pi * _float(options.get("std", 16.0), "time_embedding.std") * draws
        else:
            k = torch.arange(half, dtype=torch.float32)
            max_period = _float(options.get("max_period", 10000.0), "time_embedding.max_period")
            scale = _float(options.get("scale", 1000.0), "time_embedding.scale")
            frequencies = scale * torch.exp(-math.log(max_period) * k / float(half))
        self.register_buffer("frequencies", frequencies)

    def forward(self, t):
        if t.dim() != 1:
            raise ValueError("time embedding: t must be [B], got %s" % (tuple(t.shape),))
        if self.kind == "identity":
            return t.unsqueeze(1)
        angles = t.to(self.frequencies.dtype).unsqueeze(1) * self.frequencies.unsqueeze(0)
        return torch.cat([torch.sin(angles), torch.cos(angles)], 1)


def activate(name, h):
    if name == "silu":
        return F.silu(h)
    if name == "relu":
        return F.relu(h)
    if name == "gelu":
        return F.gelu(h)
    if name == "tanh":
        return torch.tanh(h)
    if name == "softplus":
        return F.softplus(h)
    raise ValueError("unknown activation %r (one of %s)" % (name, ", ".join(ACTIVATIONS)))


def class_rows(labels, num_classes, batch, device):
    """Rows of a class embedding: the labels, with the null class (-1, or no labels) at num_classes."""
    if labels is None:
        return torch.full((batch,), num_classes, dtype=torch.long, device=device)
    labels = torch.as_tensor(labels, device=device).long()
    if labels.shape != (batch,):
        raise ValueError("class labels must be [%d], got %s" % (batch, tuple(labels.shape)))
    if bool(((labels < -1) | (labels >= num_classes)).any()):
        raise ValueError("class labels must lie in [0, %d) or be the null class -1" % num_classes)
    return torch.where(labels < 0, torch.full_like(labels, num_classes), labels)


# --- networks of the flow models -------------------------------------------------------------

class Network(nn.Module):
    """Maps (x [B, ...], t [B], labels [B] or None) to `outputs` fields stacked along dim 1."""

    def __init__(self, outputs, num_classes):
        super().__init__()
        self.outputs = outputs
        self.num_classes = num_classes


class Mlp(Network):
    def __init__(self, options, sample_shape, outputs=1, scalars=False):
        num_classes = _int(options.get("num_classes", 0), "model.num_classes")
        super().__init__(outputs, num_classes)
        self.activation = options.get("activation", "silu")
        activate(self.activation, torch.zeros(1))  # unknown names fail here
        hidden = _ints(options.get("hidden", [256, 256, 256]), "model.hidden")
        residual = _bool(options.get("residual", False), "model.residual")
        self.scalars = scalars
        features = _product(sample_shape)
        self.time_embedding = TimeEmbedding(_section(options, "time_embedding"), 64)
        if num_classes > 0:
            self.class_embedding = nn.Embedding(num_classes + 1, self.time_embedding.dim)
        self.layers = nn.ModuleList()
        self.residual = []
        width = features + self.time_embedding.dim
        for h in hidden:
            self.layers.append(nn.Linear(width, h))
            self.residual.append(residual and h == width)
            width = h
        self.output = nn.Linear(width, (1 if scalars else features) * outputs)

    def embed(self, t, labels, batch):
        e = self.time_embedding(t)
        if self.num_classes == 0:
            if labels is not None:
                raise ValueError("mlp: labels given to an unconditional network (model.num_classes is 0)")
            return e
        return e + self.class_embedding(class_rows(labels, self.num_classes, batch, t.device))

    def features(self, x, t, labels=None):
        """The last hidden layer's activations [B, W]."""
        h = torch.cat([x.flatten(1), self.embed(t, labels, x.shape[0]).to(x.dtype)], 1)
        for layer, residual in zip(self.layers, self.residual):
            out = activate(self.activation, layer(h))
            h = out + h if residual else out
        return h

    def forward(self, x, t, labels=None):
        out = self.output(self.features(x, t, labels))
        if self.scalars:
            return out
        shape = list(x.shape)
        shape[1] *= self.outputs
        return out.view(shape)


def _product(values):
    out = 1
    for v in values:
        out *= int(v)
    return out


class EnergyNetwork(Network):
    """-grad_x E_k(x, t) for each energy E_k, stacked along dimension 1."""

    def forward(self, x, t, labels=None):
        keep_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            inputs = x if x.requires_grad else x.detach().requires_grad_(True)
            energies = self.energies(inputs, t, labels)
            fields = [-torch.autograd.grad(energies[:, k].sum(), inputs, retain_graph=True,
                                           create_graph=keep_graph)[0] for k in range(self.outputs)]
        field = torch.cat(fields, 1)
        return field if keep_graph else field.detach()


class EnergyMlp(EnergyNetwork):
    """E_k(x, t): an MLP with one scalar output per field (the submodule `energy`)."""

    def __init__(self, options, sample_shape, outputs=1):
        super().__init__(outputs, _int(options.get("num_classes", 0), "model.num_classes"))
        self.energy = Mlp(options, sample_shape, outputs, scalars=True)

    def energies(self, x, t, labels=None):
        """[B, outputs], differentiable in x."""
        return self.energy(x, t, labels)


class ResidualEnergy(EnergyNetwork):
    """E = |x - f(x, t)|^2 / 2 for the network f (Salimans & Ho 2021)."""

    def __init__(self, inner):
        super().__init__(inner.outputs, inner.num_classes)
        self.network = inner

    def energies(self, x, t, labels=None):
        out = self.network(x, t, labels)
        batch = x.shape[0]
        residual = x.reshape(batch, 1, -1) - out.reshape(batch, self.outputs, -1)
        return 0.5 * residual.pow(2).sum(2)


# --- U-Net ---------------------------------------------------------------------------------------

def _unet_options(options):
    o = {
        "channels": _int(options.get("channels", 128), "model.channels"),
        "channel_mult": _ints(options.get("channel_mult", [1, 2, 2, 2]), "model.channel_mult"),
        "num_res_blocks": _int(options.get("num_res_blocks", 2), "model.num_res_blocks"),
        "attention_resolutions": _ints(options.get("attention_resolutions", [16]), "model.attention_resolutions"),
        "num_heads": _int(options.get("num_heads", 1), "model.num_heads"),
        "head_channels": _int(options.get("head_channels", 0), "model.head_channels"),
        "dropout": _float(options.get("dropout", 0.1), "model.dropout"),
        "groups": _int(options.get("groups", 32), "model.groups"),
        "scale_shift": _bool(options.get("scale_shift", True), "model.scale_shift"),
        "resblock_updown": _bool(options.get("resblock_updown", False), "model.resblock_updown"),
        "num_classes": _int(options.get("num_classes", 0), "model.num_classes"),
    }
    return o


def unet_plan(o, side):
    """The blocks of each encoder, middle and decoder stage, as flowlab's make_plan walks them:
    tuples (kind, in, out, resample) with kind residual | attention | down | up."""
    encoder, decoder = [], []
    width = o["channels"]
    skips = [width]
    levels = len(o["channel_mult"])
    for level in range(levels):
        out = o["channels"] * o["channel_mult"][level]
        for _ in range(o["num_res_blocks"]):
            stage = [("residual", width, out, 0)]
            if side in o["attention_resolutions"]:
                stage.append(("attention", out, out, 0))
            encoder.append(stage)
            width = out
            skips.append(width)
        if level + 1 < levels:
            encoder.append([("residual", width, width, -1) if o["resblock_updown"] else ("down", width, width, 0)])
            skips.append(width)
            side //= 2
    middle = [("residual", width, width, 0), ("attention", width, width, 0), ("residual", width, width, 0)]
    for level in range(levels - 1, -1, -1):
        out = o["channels"] * o["channel_mult"][level]
        for b in range(o["num_res_blocks"] + 1):
            stage = [("residual", width + skips.pop(), out, 0)]
            width = out
            if side in o["attention_resolutions"]:
                stage.append(("attention", width, width, 0))
            if level > 0 and b == o["num_res_blocks"]:
                stage.append(("residual", width, width, 1) if o["resblock_updown"] else ("up", width, width, 0))
                side *= 2
            decoder.append(stage)
    return encoder, middle, decoder


def _upsample(x):
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


class ResidualBlock(nn.Module):
    def __init__(self, o, width_in, width_out, resample):
        super().__init__()
        self.scale_shift, self.dropout, self.resample = o["scale_shift"], o["dropout"], resample
        self.norm_in = nn.GroupNorm(o["groups"], width_in)
        self.conv_in = nn.Conv2d(width_in, width_out, 3, padding=1)
        self.embedding = nn.Linear(4 * o["channels"], (2 if o["scale_shift"] else 1) * width_out)
        self.norm_out = nn.GroupNorm(o["groups"], width_out)
        self.conv_out = nn.Conv2d(width_out, width_out, 3, padding=1)
        if width_in != width_out:
            self.skip = nn.Conv2d(width_in, width_out, 1)

    def _resample(self, x):
        return _upsample(x) if self.resample > 0 else F.avg_pool2d(x, 2)

    def forward(self, x, embedding):
        h = F.silu(self.norm_in(x))
        skip = x
        if self.resample != 0:
            h = self._resample(h)
            skip = self._resample(x)
        if hasattr(self, "skip"):
            skip = self.skip(skip)
        h = self.conv_in(h)
        e = self.embedding(F.silu(embedding))[:, :, None, None]
        if self.scale_shift:
            scale, shift = e.chunk(2, 1)
            h = F.silu(self.norm_out(h) * (1 + scale) + shift)
        else:
            h = F.silu(self.norm_out(h + e))
        h = self.conv_out(F.dropout(h, self.dropout, self.training))
        return h + skip


class AttentionBlock(nn.Module):
    def __init__(self, o, width):
        super().__init__()
        self.heads = width // o["head_channels"] if o["head_channels"] > 0 else o["num_heads"]
        self.norm = nn.GroupNorm(o["groups"], width)
        self.qkv = nn.Conv2d(width, 3 * width, 1)
        self.projection = nn.Conv2d(width, width, 1)

    def forward(self, x, embedding=None):
        batch, width, height, across = x.shape
        head_width = width // self.heads
        q, k, v = self.qkv(self.norm(x)).reshape(batch, 3, self.heads, head_width, height * across).unbind(1)
        # softmax over keys of q.k / sqrt(d), each scaled by d^(-1/4) as flowlab does
        scale = 1.0 / math.sqrt(math.sqrt(head_width))
        weights = torch.softmax(torch.matmul((q * scale).transpose(-1, -2), k * scale), -1)  # [B, h, L, L]
        mixed = torch.matmul(v, weights.transpose(-1, -2))  # [B, h, d, L]
        return self.projection(mixed.reshape(x.shape)) + x


class Downsample(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, stride=2, padding=1)

    def forward(self, x, embedding=None):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.conv = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x, embedding=None):
        return self.conv(_upsample(x))


def _block(o, kind, width_in, width_out, resample):
    if kind == "residual":
        return ResidualBlock(o, width_in, width_out, resample)
    if kind == "attention":
        return AttentionBlock(o, width_out)
    return Downsample(width_out) if kind == "down" else Upsample(width_out)


class UNet(Network):
    def __init__(self, options, sample_shape, outputs=1):
        o = _unet_options(options)
        super().__init__(outputs, o["num_classes"])
        if len(sample_shape) != 3:
            raise ValueError("unet: samples must be images [C, H, W], got %s" % (list(sample_shape),))
        channels, side = int(sample_shape[0]), int(sample_shape[1])
        width, embedding = o["channels"], 4 * o["channels"]
        self.time_features = TimeEmbedding(_section(options, "time_embedding"), width)
        self.time_in = nn.Linear(self.time_features.dim, embedding)
        self.time_out = nn.Linear(embedding, embedding)
        if o["num_classes"] > 0:
            self.class_embedding = nn.Embedding(o["num_classes"] + 1, embedding)
        self.input = nn.Conv2d(channels, width, 3, padding=1)
        encoder, middle, decoder = unet_plan(o, side)
        build = lambda stages: nn.ModuleList(nn.ModuleList(_block(o, *b) for b in stage) for stage in stages)
        self.encoder = build(encoder)
        self.middle = build([middle])
        self.decoder = build(decoder)
        self.output_norm = nn.GroupNorm(o["groups"], width)
        self.output = nn.Conv2d(width, outputs * channels, 3, padding=1)

    def _encode(self, x, t, labels):
        if x.dim() != 4 or t.dim() != 1 or t.shape[0] != x.shape[0]:
            raise ValueError("unet: x [B, C, H, W] and t [B] expected, got %s and %s" % (
                tuple(x.shape), tuple(t.shape)))
        embedding = self.time_out(F.silu(self.time_in(self.time_features(t))))
        if self.num_classes > 0:
            embedding = embedding + self.class_embedding(class_rows(labels, self.num_classes, x.shape[0], x.device))
        elif labels is not None:
            raise ValueError("unet: labels given to an unconditional network (model.num_classes is 0)")
        embedding = embedding.to(x.dtype)
        h = self.input(x)
        skips = [h]
        for stage in self.encoder:
            for block in stage:
                h = block(h, embedding)
            skips.append(h)
        for block in self.middle[0]:
            h = block(h, embedding)
        return embedding, h, skips

    def features(self, x, t, labels=None):
        """The middle block's output."""
        return self._encode(x, t, labels)[1]

    def forward(self, x, t, labels=None):
        embedding, h, skips = self._encode(x, t, labels)
        for stage in self.decoder:
            h = torch.cat([h, skips.pop()], 1)
            for block in stage:
                h = block(h, embedding)
        return self.output(F.silu(self.output_norm(h)))


def build_network(options, sample_shape, outputs):
    kind = options.get("type", "mlp")
    if kind == "mlp":
        return Mlp(options, sample_shape, outputs)
    if kind == "energy_mlp":
        return EnergyMlp(options, sample_shape, outputs)
    if kind == "unet":
        return UNet(options, sample_shape, outputs)
    if kind == "energy":
        inner = options.get("network")
        if not isinstance(inner, dict) or inner.get("type") in (None, "energy"):
            raise ValueError("model.network: the network f of an energy model (any type but energy)")
        return ResidualEnergy(build_network(inner, sample_shape, outputs))
    raise ValueError("model.type: no Python version of flowlab network %r (mlp, energy_mlp, unet, energy)" % kind)


class FlowModel(nn.Module):
    """A flow run's model: one network with one output per field, or (`heads: separate` with two
    fields) the networks `network` and `second`. forward returns {prediction: tensor shaped like x}."""

    def __init__(self, options, sample_shape):
        super().__init__()
        first = options.get("predicts", "velocity")
        second = options.get("also_predicts", "none")
        for name in (first,) + (() if second == "none" else (second,)):
            if name not in PREDICTIONS:
                raise ValueError("model.predicts: unknown prediction %r (one of %s)" % (name, ", ".join(PREDICTIONS)))
        self.predicts = [first] + ([] if second == "none" else [second])
        heads = options.get("heads", "separate")
        if len(self.predicts) == 1 or heads == "shared":
            self.network = build_network(options, sample_shape, len(self.predicts))
        else:
            self.network = build_network(options, sample_shape, 1)
            self.second = build_network(options, sample_shape, 1)

    @property
    def num_classes(self):
        return self.network.num_classes

    def forward(self, x, t, labels=None):
        if hasattr(self, "second"):
            outs = [self.network(x, t, labels), self.second(x, t, labels)]
        else:
            outs = self.network(x, t, labels).chunk(len(self.predicts), 1)
        return dict(zip(self.predicts, outs))

    def features(self, x, t, labels=None):
        return self.network.features(x, t, labels)


# --- classifiers ---------------------------------------------------------------------------------

class MlpClassifier(nn.Module):
    def __init__(self, options, sample_shape, num_classes):
        super().__init__()
        self.activation = options.get("activation", "relu")
        self.dropout = _float(options.get("dropout", 0.0), "model.dropout")
        self.layers = nn.ModuleList()
        width = _product(sample_shape)
        for h in _ints(options.get("hidden", [256, 256]), "model.hidden"):
            self.layers.append(nn.Linear(width, h))
            width = h
        self.output = nn.Linear(width, num_classes)

    def penultimate(self, x):
        """flowlab's Classifier::features: the last hidden layer [B, W]."""
        h = x.flatten(1)
        for i, layer in enumerate(self.layers):
            if i > 0 and self.dropout > 0:
                h = F.dropout(h, self.dropout, self.training)
            h = activate(self.activation, layer(h))
        return h

    def forward(self, x):
        h = self.penultimate(x)
        if len(self.layers) > 0 and self.dropout > 0:
            h = F.dropout(h, self.dropout, self.training)
        return self.output(h)


class CnnClassifier(nn.Module):
    def __init__(self, options, sample_shape, num_classes):
        super().__init__()
        if len(sample_shape) != 3:
            raise ValueError("cnn: needs image-shaped samples [C, H, W], got %s" % (list(sample_shape),))
        norm = options.get("norm", "batch")
        groups = _int(options.get("groups", 8), "model.groups")
        hidden = _int(options.get("hidden", 128), "model.hidden")
        self.dropout = _float(options.get("dropout", 0.25), "model.dropout")
        width_in, height, width = (int(v) for v in sample_shape)
        layers = []
        for out in _ints(options.get("channels", [32, 64]), "model.channels"):
            for conv in range(2):
                layers.append(nn.Conv2d(width_in if conv == 0 else out, out, 3, padding=1, bias=norm == "none"))
                if norm == "batch":
                    layers.append(nn.BatchNorm2d(out))
                elif norm == "group":
                    layers.append(nn.GroupNorm(groups, out))
                layers.append(nn.ReLU())
            layers.append(nn.MaxPool2d(2))
            width_in, height, width = out, height // 2, width // 2
        self.features = nn.Sequential(*layers)
        self.dense = nn.Linear(width_in * height * width, hidden)
        self.output = nn.Linear(hidden, num_classes)

    def penultimate(self, x):
        """flowlab's Classifier::features: the dense layer's activations [B, hidden] (the submodule
        `features` is the convolution stack, named as in flowlab's checkpoints)."""
        h = self.features(x).flatten(1)
        h = F.dropout(h, self.dropout, self.training)
        return F.relu(self.dense(h))

    def forward(self, x):
        return self.output(F.dropout(self.penultimate(x), self.dropout, self.training))


# --- building and loading --------------------------------------------------------------------------

def build_model(config, sample_shape=None, num_classes=None, run_dir=None):
    """The network of a flowlab run's config (a dict, or YAML text): a FlowModel for flow tasks,
    a classifier for `task: classifier` / `distill_classifier`. `sample_shape` (one sample, e.g.
    [2] or [1, 28, 28]) defaults to what the `data:` section says; `num_classes` is needed where
    the config says `auto` and for classifiers whose data the config alone does not describe."""
    if isinstance(config, str):
        config = read_yaml(config)
    task = config.get("task", "flow_matching")
    model = dict(_section(config, "model"))
    if sample_shape is None:
        sample_shape = sample_shape_from_config(config, run_dir)
    if sample_shape is None:
        raise ValueError("the sample shape of data type %r is not known here: pass sample_shape" %
                         _section(config, "data").get("type"))
    sample_shape = [int(v) for v in sample_shape]
    if task in CLASSIFIER_TASKS:
        if num_classes is None:
            raise ValueError("a classifier needs num_classes (export.json holds it)")
        kind = model.get("type", "mlp")
        if kind == "mlp":
            return MlpClassifier(model, sample_shape, int(num_classes))
        if kind == "cnn":
            return CnnClassifier(model, sample_shape, int(num_classes))
        raise ValueError("model.type: no Python version of flowlab classifier %r (mlp, cnn)" % kind)
    if task not in FLOW_TASKS:
        raise ValueError("task %r: no Python version of its network" % task)
    holder = model.get("network") if model.get("type") == "energy" else model
    if num_classes is not None and isinstance(holder, dict):
        holder = dict(holder)
        holder["num_classes"] = int(num_classes)
        if model.get("type") == "energy":
            model["network"] = holder
        else:
            model = holder
    elif isinstance(holder, dict) and holder.get("num_classes") == "auto":
        raise ValueError("model.num_classes is auto: pass num_classes (export.json holds it)")
    return FlowModel(model, sample_shape)


def load_exported(path, map_location="cpu"):
    """The model of an export directory (scripts/export.py's output), weights loaded, in eval mode."""
    with open(os.path.join(path, "export.json")) as f:
        meta = json.load(f)
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    model = build_model(config, sample_shape=meta["sample_shape"], num_classes=meta.get("num_classes"))
    state = torch.load(os.path.join(path, meta.get("state_dict", "model.pt")), map_location=map_location)
    model.load_state_dict(state)
    return model.eval()
