#!/usr/bin/env python3
"""Exports a flowlab run's network as a plain PyTorch state_dict, usable without flowlab.

    python3 scripts/export.py RUN_DIR [--checkpoint FILE] [--weights auto|ema|model] [--out DIR]
                              [--sample-shape 1 28 28] [--num-classes K]
    python3 scripts/export.py RUN_DIR/checkpoints/step_000002000.pt      # the run is its parent's parent

writes into DIR (default RUN_DIR/export/):

    model.pt      torch.save of a dict of tensors: the network's state_dict, keys as the modules of
                  scripts/flowlab_models.py name them ("network.layers.0.weight", ...)
    config.yaml   the run's resolved config (RUN_DIR/config.yaml, else the checkpoint's copy)
    config.json   the same, parsed
    export.json   what the config alone does not say: the sample shape, the classes, the task,
                  which checkpoint and which weights (EMA or trained), the fields predicted

and checks, before writing, that flowlab_models.build_model(config) takes every tensor with its
shape (load_state_dict(strict=True)). Rebuild in Python:

    import sys; sys.path.insert(0, "scripts"); import flowlab_models
    model = flowlab_models.load_exported("RUN_DIR/export")
    fields = model(x, t)            # {"velocity": ...}; model(x, t, labels) when class-conditional

The checkpoint is read with torch.jit.load (flowlab writes TorchScript-style archives; PyTorch
ignores the CRC-32 trailer after the zip, which is checked here as flowlab checks it). Works with
torch 1.13 and 2.x. Without --checkpoint the newest readable checkpoints/step_*.pt is used (a
truncated or corrupt one is skipped with a note), as `flowlab sample` does.
`--weights auto` takes the weights flowlab itself uses: for flow runs the EMA copy unless
sample.use_ema is false; for classifier runs the trained weights unless eval.use_ema is true.
"""
import argparse
import collections
import glob
import json
import os
import re
import sys
import warnings
import zlib

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flowlab_models  # noqa: E402

EXPORT_FORMAT = 1


def fail(message):
    print("export: " + message, file=sys.stderr)
    sys.exit(1)


def checkpoint_files(run_dir):
    """The run's checkpoints, newest first."""
    files = [f for f in glob.glob(os.path.join(run_dir, "checkpoints", "step_*.pt")) if ".tmp." not in f]
    step = lambda f: int(re.search(r"step_(\d+)\.pt$", f).group(1)) if re.search(r"step_(\d+)\.pt$", f) else -1
    return sorted(files, key=step, reverse=True)


TRAILER = re.compile(rb"\nflowlab-checkpoint crc32 ([0-9a-f]{8}) bytes (\d+)\n$")


def check_trailer(file):
    """Raises ValueError when the file's checksum trailer (after the zip archive) does not match
    its bytes, as flowlab does; files without a trailer (older checkpoints) pass."""
    with open(file, "rb") as f:
        data = f.read()
    found = TRAILER.search(data[-80:])
    if not found:
        return
    size = int(found.group(2))
    if size != len(data) - len(found.group(0)) or zlib.crc32(data[:size]) != int(found.group(1), 16):
        raise ValueError("its CRC-32 trailer does not match its bytes (a corrupt file)")


def read_checkpoint(file):
    """The archive's tensors by name (flattened: "modules.model.network.layers.0.weight", ...)."""
    check_trailer(file)
    with warnings.catch_warnings():  # torch 2.x marks torch.jit.load deprecated; it still reads them
        warnings.simplefilter("ignore")
        archive = torch.jit.load(file, map_location="cpu")
    return {name: tensor.detach() for name, tensor in archive.state_dict().items()}


def text_of(tensor):
    return bytes(tensor.to(torch.uint8).tolist()).decode("utf-8")


def module_tensors(archive, file, weights):
    """(state_dict of module "model" with the chosen weights, the weights taken)."""
    version = int(archive["format_version"]) if "format_version" in archive else 1
    if version >= 3:
        prefixes = {"model": "modules.model.", "ema": "ema_modules.model."}
    else:  # formats 1 and 2: one model and its EMA
        prefixes = {"model": "model.", "ema": "ema."}
    picked = {}
    for kind in ("model", "ema"):
        prefix = prefixes[kind]
        picked[kind] = collections.OrderedDict(
            (name[len(prefix):], tensor) for name, tensor in archive.items() if name.startswith(prefix))
    if not picked["model"] and not picked["ema"]:
        fail("%s holds no module 'model' (format %d)" % (file, version))
    if weights == "ema" and not picked["ema"]:
        print("export: %s has no EMA copy; exporting the trained weights" % file, file=sys.stderr)
        weights = "model"
    state = picked[weights]
    if version == 1:  # format 1 saved the network itself; models now hold it as their child "network"
        state = collections.OrderedDict(("network." + k, v) for k, v in state.items())
    return state, weights, version


def infer_num_classes(state, classifier):
    if classifier:
        return int(state["output.weight"].shape[0]) if "output.weight" in state else None
    for name, tensor in state.items():
        if name.endswith("class_embedding.weight"):
            return int(tensor.shape[0]) - 1
    return 0


def infer_sample_shape(config, state):
    """[features] of an MLP-based network from its first layer (what the MLP flattens x to)."""
    model = config.get("model") or {}
    kind = model.get("type")
    first = [k for k in state if re.search(r"(^|\.)layers\.0\.weight$", k)]
    frequencies = [k for k in state if k.endswith("time_embedding.frequencies")]
    if kind in ("mlp", "energy_mlp") and first:
        embedding = 1 if not frequencies else 2 * int(state[frequencies[0]].shape[0])
        if config.get("task", "flow_matching") in flowlab_models.CLASSIFIER_TASKS:
            embedding = 0
        return [int(state[first[0]].shape[1]) - embedding]
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", help="run directory, or a checkpoint file inside RUN_DIR/checkpoints/")
    parser.add_argument("--checkpoint", help="checkpoint file (default: the run's newest readable one)")
    parser.add_argument("--weights", choices=("auto", "ema", "model"), default="auto",
                        help="EMA copy or trained weights (auto: those flowlab samples/scores with)")
    parser.add_argument("--out", help="output directory (default: RUN_DIR/export)")
    parser.add_argument("--sample-shape", type=int, nargs="+", help="shape of one sample, e.g. 1 28 28")
    parser.add_argument("--num-classes", type=int, help="classes, where neither config nor weights tell")
    args = parser.parse_args()

    run_dir, checkpoint = args.run, args.checkpoint
    if os.path.isfile(run_dir):
        checkpoint = checkpoint or run_dir
        run_dir = os.path.dirname(os.path.dirname(os.path.abspath(run_dir)))
    if not os.path.isdir(run_dir):
        fail("%s is not a run directory" % run_dir)

    candidates = [checkpoint] if checkpoint else checkpoint_files(run_dir)
    if not candidates:
        fail("%s has no checkpoints (checkpoints/step_*.pt)" % run_dir)
    archive, used = None, None
    for file in candidates:
        try:
            archive, used = read_checkpoint(file), file
            break
        except Exception as error:  # a corrupt or truncated file: flowlab falls back too
            if checkpoint:
                fail("cannot read checkpoint %s: %s" % (file, str(error).splitlines()[0]))
            print("export: skipping unreadable checkpoint %s (%s)" % (file, str(error).splitlines()[0]),
                  file=sys.stderr)
    if archive is None:
        fail("no readable checkpoint in %s" % run_dir)

    config_file = os.path.join(run_dir, "config.yaml")
    if os.path.isfile(config_file):
        with open(config_file) as f:
            config_text = f.read()
    elif "config" in archive:
        config_text = text_of(archive["config"])
    else:
        fail("%s has no config.yaml and %s holds no config" % (run_dir, used))
    config = flowlab_models.read_yaml(config_text)
    task = config.get("task", "flow_matching")
    classifier = task in flowlab_models.CLASSIFIER_TASKS

    weights = args.weights
    if weights == "auto":
        if classifier:
            weights = "ema" if (config.get("eval") or {}).get("use_ema", False) is True else "model"
        else:
            weights = "model" if (config.get("sample") or {}).get("use_ema", True) is False else "ema"
    state, weights, version = module_tensors(archive, used, weights)

    num_classes = args.num_classes if args.num_classes is not None else infer_num_classes(state, classifier)
    sample_shape = args.sample_shape or flowlab_models.sample_shape_from_config(config, run_dir) or \
        infer_sample_shape(config, state)
    if sample_shape is None:
        fail("cannot tell the shape of one sample of data type %r: pass --sample-shape" %
             (config.get("data") or {}).get("type"))

    try:
        model = flowlab_models.build_model(config, sample_shape=sample_shape, num_classes=num_classes)
        model.load_state_dict(state, strict=True)
    except (ValueError, RuntimeError) as error:
        fail("the Python model of this run does not take its checkpoint's tensors:\n%s" % error)
    # Every tensor, copied out of the archive, contiguous, in the order the Python model names them.
    state = collections.OrderedDict((k, v.detach().clone().contiguous()) for k, v in model.state_dict().items())

    out = args.out or os.path.join(run_dir, "export")
    os.makedirs(out, exist_ok=True)
    torch.save(state, os.path.join(out, "model.pt"))
    with open(os.path.join(out, "config.yaml"), "w") as f:
        f.write(config_text)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
        f.write("\n")
    model_section = config.get("model") or {}
    meta = collections.OrderedDict([
        ("export_format", EXPORT_FORMAT),
        ("state_dict", "model.pt"),
        ("checkpoint", os.path.abspath(used)),
        ("checkpoint_format", version),
        ("step", int(archive["step"]) if "step" in archive else None),
        ("weights", weights),
        ("task", task),
        ("model_type", model_section.get("type", "mlp")),
        ("predicts", list(getattr(model, "predicts", []))),
        ("sample_shape", [int(v) for v in sample_shape]),
        ("num_classes", num_classes),
        ("parameters", sum(p.numel() for p in model.parameters())),
        ("torch", torch.__version__),
    ])
    with open(os.path.join(out, "export.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print("export: %s (step %s, %s weights, %s %s, %d parameters) -> %s/model.pt, config.yaml, config.json, "
          "export.json" % (used, meta["step"], weights, task, meta["model_type"], meta["parameters"], out))


if __name__ == "__main__":
    main()
