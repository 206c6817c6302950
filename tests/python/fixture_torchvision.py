"""Reference data for tests/test_torchscript_taps.cpp.

Exports torchvision GoogLeNet, VGG11, AlexNet and ResNet18 (random weights, fixed seed, eval mode) as TorchScript, traced
and scripted, and computes the oracle with Python forward hooks on the eager models: activations at a few taps
(including taps later overwritten by in-place ops) and gradients of a later unit w.r.t. earlier taps. Also writes
small models for the error paths: a module called inside a loop, a tap overwritten through a view, a frozen model,
and one with an op the receptive-field arithmetic does not cover (an upsampling).

Usage: /usr/bin/python3 fixture_torchvision.py OUTDIR
Files are rewritten only when this script or the torch version changed (see STAMP).
"""
import hashlib
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision

SIZE = 96          # input side: small enough to keep the tests fast, large enough for every model
BATCH = 2
STAMP = "ts_torchvision.stamp"
REF = "ts_torchvision_ref.pt"
META = "ts_torchvision_meta.json"
SMALL_MODELS = ["ts_loop_toy_scripted.pt", "ts_view_toy_scripted.pt", "ts_frozen.pt", "ts_upsample_toy_scripted.pt"]


def randomize_batchnorm(model):
    """Non-trivial BatchNorm statistics, so BN is not the identity and pre-activations have both signs."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)


def googlenet():
    torch.manual_seed(1)
    m = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False, num_classes=10)
    # torchvision's init_weights gives activations of ~1e-7, useless as a test signal: use He init instead.
    for mod in m.modules():
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
    randomize_batchnorm(m)
    return m


def random_png_folder(folder, n, seed, size=224):
    """n seeded uniform-noise RGB PNGs, 00000.png ... (the benchmarks' image folders)."""
    os.makedirs(folder)
    gen = torch.Generator().manual_seed(seed)
    for i in range(n):
        torchvision.io.write_png((torch.rand(3, size, size, generator=gen) * 255).to(torch.uint8),
                                 os.path.join(folder, f"{i:05d}.png"))


def narrow_classifier(m):
    """The stock classifiers (25088x4096 in VGG11) would make files of hundreds of MB; 64-wide ones keep the
    architecture's shape."""
    linears = [i for i, mod in enumerate(m.classifier) if isinstance(mod, nn.Linear)]
    for k, (i, out) in enumerate(zip(linears, [64, 64, 10])):
        m.classifier[i] = nn.Linear(m.classifier[i].in_features if k == 0 else 64, out)
    return m


def vgg11():
    torch.manual_seed(2)
    return narrow_classifier(torchvision.models.vgg11(weights=None, num_classes=10))


def alexnet():
    torch.manual_seed(5)
    return narrow_classifier(torchvision.models.alexnet(weights=None, num_classes=10))


def resnet18():
    torch.manual_seed(3)
    m = torchvision.models.resnet18(weights=None, num_classes=10)
    randomize_batchnorm(m)
    return m


class LoopToy(nn.Module):
    """`b` is called inside a loop (prim::Loop when scripted): taps on it are rejected. `unused` is never called."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.ReLU()
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.unused = nn.Linear(2, 2)

    def forward(self, x):
        x = self.act(self.conv(x))
        for _ in range(2):
            x = self.b(x)
        return x


class ViewToy(nn.Module):
    """The input of `act` is doubled in place through a view after the call: tapping `act:in` is refused, while
    `conv` (whose later uses can all be rerouted to a copy) is fine."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x):
        h = self.conv(x)
        flat = h.view(-1)
        y = self.act(h)
        flat.mul_(2.0)
        return y + h


class UpsampleToy(nn.Module):
    """A dilated convolution (covered by the receptive-field arithmetic) and then a nearest upsampling (not
    covered: its fields are measured)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=2, dilation=2)
        self.up = nn.Upsample(scale_factor=2.0, mode="nearest")
        self.conv2 = nn.Conv2d(4, 4, 3, stride=2)

    def forward(self, x):
        return self.conv2(self.up(torch.relu(self.conv(x))))


# Per model: the taps whose activations are compared, and the gradient case
# (unit = (tap, channel); f = sum over the batch of that channel at the centre; sources = taps to differentiate).
CASES = {
    "googlenet": dict(build=googlenet,
                      taps=["conv1.conv:in", "conv1", "maxpool2", "inception3a", "inception3a.branch2.1.conv:in",
                            "inception3b", "inception4a.branch1.bn"],
                      unit=("inception3b", 5), sources=["inception3a", "conv1.conv:in"]),
    "vgg11": dict(build=vgg11,
                  taps=["features.1", "features.3", "features.4:in", "features.4", "features.8", "features.9:in"],
                  unit=("features.8", 7), sources=["features.1", "features.4:in"]),
    "alexnet": dict(build=alexnet,
                    taps=["features.0", "features.2", "features.5:in", "features.10", "avgpool"],
                    unit=("features.10", 3), sources=["features.3", "features.0:in"]),
    "resnet18": dict(build=resnet18,
                     taps=["layer1.0.bn2", "layer1.0.relu#1:in", "layer1.0", "layer2.0.downsample.0", "layer2.0"],
                     unit=("layer2.0", 3), sources=["layer1.0.bn2", "layer1.0.relu#1:in"]),
}


def parse_tap(tap):
    layer, _, side = tap.partition(":")
    name, _, call = layer.partition("#")
    return name, int(call or 0), side == "in"


def hook_run(model, x, taps):
    """Runs model(x) with hooks that record each tap at call time. Each hook hands a clone downstream, so later
    in-place ops (ReLU(inplace=True), +=) mutate the clone while the recorded tensor stays on the autograd path."""
    modules = dict(model.named_modules())
    got, calls, handles = {}, {}, []
    order = []  # (name, kind) in order of first call

    def counter(name):
        def pre(m, args):
            calls[name] = calls.get(name, -1) + 1
            if calls[name] == 0:
                order.append([name, type(m).__name__])
        return pre

    for name, m in modules.items():
        if name:
            handles.append(m.register_forward_pre_hook(counter(name)))

    for tap in taps:
        name, call, is_input = parse_tap(tap)
        m = modules[name]
        if is_input:
            def pre(m, args, tap=tap, name=name, call=call):
                if calls[name] == call:
                    got[tap] = args[0]
                    return (args[0].clone(),) + tuple(args[1:])
            handles.append(m.register_forward_pre_hook(pre))
        else:
            def post(m, args, out, tap=tap, name=name, call=call):
                if calls[name] == call:
                    got[tap] = out
                    return out.clone()
            handles.append(m.register_forward_hook(post))
    out = model(x)
    for h in handles:
        h.remove()
    return out, [got[t] for t in taps], order


def reference(name, case, x, out_dir):
    model = case["build"]().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    xg = x.clone().requires_grad_(True)
    unit_tap, channel = case["unit"]
    taps = list(dict.fromkeys(case["taps"] + [unit_tap] + case["sources"]))
    out, acts, order = hook_run(model, xg, taps)
    by_tap = dict(zip(taps, acts))
    unit = by_tap[unit_tap]
    f = unit[:, channel, unit.shape[2] // 2, unit.shape[3] // 2].sum()
    grads = torch.autograd.grad(f, [by_tap[s] for s in case["sources"]])

    ref = {f"{name}/output": out.detach()}
    for t in case["taps"]:
        ref[f"{name}/{t}"] = by_tap[t].detach().clone()
    for s, g in zip(case["sources"], grads):
        ref[f"{name}/grad/{s}"] = g.detach()

    with torch.no_grad():
        traced = torch.jit.trace(model, x)
    scripted = torch.jit.script(model)
    files = {}
    for kind, mod in (("traced", traced), ("scripted", scripted)):
        fname = f"ts_{name}_{kind}.pt"
        mod.save(os.path.join(out_dir, fname))
        files[kind] = fname
    meta = dict(layers=order, files=files, taps=case["taps"], unit=[unit_tap, channel], sources=case["sources"])
    return ref, meta


def small_models(x, out_dir):
    torch.manual_seed(4)
    loop, view, upsample = LoopToy().eval(), ViewToy().eval(), UpsampleToy().eval()
    frozen = torch.jit.freeze(torch.jit.script(nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU()).eval()))
    scripted = (torch.jit.script(loop), torch.jit.script(view), frozen, torch.jit.script(upsample))
    for fname, mod in zip(SMALL_MODELS, scripted):
        mod.save(os.path.join(out_dir, fname))
    with torch.no_grad():
        return {"loop_toy/act": loop.act(loop.conv(x)), "loop_toy/output": loop(x),
                "view_toy/conv": view.conv(x), "view_toy/output": view(x)}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def up_to_date(out_dir, stamp, version):
    if not os.path.exists(stamp) or open(stamp).read() != version:
        return False
    with open(os.path.join(out_dir, META)) as f:
        files = [REF] + SMALL_MODELS + list(json.load(f)["sha256"])
    return all(os.path.exists(os.path.join(out_dir, f)) for f in files)


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    with open(__file__, "rb") as f:
        version = hashlib.sha256(f.read() + torch.__version__.encode() + torchvision.__version__.encode())
    version = version.hexdigest()
    stamp = os.path.join(out_dir, STAMP)
    if up_to_date(out_dir, stamp, version):
        print("fixture_torchvision: up to date")
        return

    torch.set_num_threads(2)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, 3, SIZE, SIZE, generator=g)
    refs = {"x": x}
    meta = {"models": {}, "size": SIZE}
    for name, case in CASES.items():
        ref, m = reference(name, case, x, out_dir)
        refs.update(ref)
        meta["models"][name] = m
    refs.update(small_models(x, out_dir))
    meta["sha256"] = {f: sha256(os.path.join(out_dir, f)) for m in meta["models"].values()
                      for f in m["files"].values()}
    torch.save(refs, os.path.join(out_dir, REF))
    with open(os.path.join(out_dir, META), "w") as f:
        json.dump(meta, f, indent=1)
    with open(stamp, "w") as f:  # last, so an interrupted run is redone
        f.write(version)
    print("fixture_torchvision: wrote", len(refs), "reference tensors")


if __name__ == "__main__":
    main()
