"""Reference attributions computed in Python PyTorch with forward hooks: the independent oracle for
tension's attribution engine. Writes TorchScript models and a dict of reference tensors.
Usage: fixture_attribution.py OUTDIR"""
import os
import sys

import torch
import torch.nn as nn

out = os.path.join(sys.argv[1], "attribution")
os.makedirs(out, exist_ok=True)
torch.manual_seed(11)


class Net(nn.Module):
    """A small CNN with in-place ReLUs (the hook trap) and biases; `bias=False` makes it positively homogeneous."""

    def __init__(self, bias=True):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=bias)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(8, 12, 3, padding=1, bias=bias)
        self.relu2 = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(12, 16, 3, padding=1, bias=bias)
        self.relu3 = nn.ReLU(inplace=True)
        self.conv4 = nn.Conv2d(16, 10, 3, padding=1, bias=bias)

    def forward(self, x):
        x = self.relu1(self.conv1(x))
        x = self.relu2(self.conv2(x))
        x = self.pool(x)
        x = self.relu3(self.conv3(x))
        return self.conv4(x)


def reference(model, x, feature_module, units, layers):
    """f_v = output of feature_module at the centre, per unit; S = grad * act at each layer (module outputs)."""
    acts = {}

    def keep(name):
        def hook(mod, inp, outp):
            acts[name] = outp.clone()  # clone: a later in-place ReLU must not change what we keep
            return acts[name]          # ... and the graph continues from the kept tensor
        return hook

    handles = [dict(model.named_modules())[n].register_forward_hook(keep(n)) for n in layers + [feature_module]]
    model(x)
    for h in handles:
        h.remove()
    target = acts[feature_module]
    r, c = target.shape[2] // 2, target.shape[3] // 2
    res = {}
    for u in units:
        fv = target[:, u, r, c]
        grads = torch.autograd.grad(fv.sum(), [acts[n] for n in layers], retain_graph=True)
        res[f"fv_{u}"] = fv.detach()
        for n, g in zip(layers, grads):
            s = g * acts[n].detach()
            key = f"{u}_{n}"
            res[f"S_{key}"] = s
            flat = s.flatten(1)
            res[f"E_{key}"] = flat.sum(1)
            res[f"Epos_{key}"] = flat.clamp(min=0).sum(1)
            res[f"Eneg_{key}"] = (-flat).clamp(min=0).sum(1)
            res[f"L2_{key}"] = flat.norm(dim=1)
            res[f"L21_{key}"] = s.norm(dim=1).flatten(1).sum(1)
            res[f"phipos_{key}"] = s.clamp(min=0).sum(1)
            res[f"phineg_{key}"] = (-s).clamp(min=0).sum(1)
            res[f"support_{key}"] = (g.abs().sum((0, 1)) > 0).to(torch.uint8)
    return res


x = torch.rand(4, 3, 24, 24)
for bias in (True, False):
    net = Net(bias).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    name = "net" if bias else "net_nobias"
    ref = reference(net, x.clone().requires_grad_(True), "conv4", [2, 7], ["relu1", "relu3"])
    ref["x"] = x
    ref["conv4_bias"] = net.conv4.bias.detach().clone() if bias else torch.zeros(10)
    torch.jit.trace(net, x).save(os.path.join(out, name + ".pt"))
    torch.save(ref, os.path.join(out, name + "_ref.pt"))
