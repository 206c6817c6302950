"""Reference data for tests/test_zoo.cpp, from implementations independent of the C++ zoo.

- inception-v1: zoo_inception_ref.py (Lucid's layout written afresh in Python) with a random He-initialised state
  dict under inception5h.pth's key names, saved both as the OrderedDict that Module.state_dict() returns and as a
  plain dict; its logits, activations at a 224 input and at an odd-sized one, and gradients of later units with
  respect to earlier layers.
- vgg11 / vgg11-bn: torchvision (random init, fixed seed, random BatchNorm statistics, eval mode). The state
  dicts saved have a narrow classifier (25088->64->64->10) so the files stay small; the full models' key names
  and shapes are listed in a text file instead.
- fmnist-cnn / fmnist-cnn-bn: zoo_fmnist_ref.py, a Python mirror of the default model.
- tensors.pt / list.pt: odd tensors (views, strides, dtypes) and a non-dict, for the state-dict reader.

Usage: /usr/bin/python3 fixture_zoo.py OUTDIR   (writes OUTDIR/zoo/; skipped when its STAMP is current)
"""
import collections
import hashlib
import os
import sys

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zoo_fmnist_ref import FmnistCnnRef  # noqa: E402
from zoo_inception_ref import random_inception  # noqa: E402

SUBDIR = "zoo"
STAMP = "STAMP"

INCEPTION_TAPS = [
    "conv2d0", "localresponsenorm0", "conv2d2", "localresponsenorm1", "maxpool1", "mixed3a", "mixed3b_pre_relu",
    "mixed4a", "mixed4c_3x3_bottleneck", "mixed4d_pool_reduce_pre_relu_conv", "mixed4e_pre_relu", "maxpool10",
    "mixed5b", "softmax2_pre_activation_matmul",
]
INCEPTION_ODD_TAPS = ["maxpool1", "mixed3b_pre_relu", "mixed4a", "mixed5b"]


def inception(out):
    model = random_inception(seed=11).eval()
    state = model.state_dict()  # an OrderedDict with _metadata, like inception5h.pth
    torch.save(state, os.path.join(out, "inception_v1_ordered.pt"))
    torch.save({k: v.clone() for k, v in state.items()}, os.path.join(out, "inception_v1_dict.pt"))

    g = torch.Generator().manual_seed(12)
    x = torch.rand(2, 3, 224, 224, generator=g) * 255 - 117
    x_odd = torch.rand(1, 3, 97, 131, generator=g) * 255 - 117  # odd sizes exercise the asymmetric paddings
    ref = {"input": x, "odd_input": x_odd}
    with torch.no_grad():
        t = model(x)
        ref.update({name: t[name] for name in INCEPTION_TAPS})
        t = model(x_odd, head=False)
        ref.update({"odd/" + name: t[name] for name in INCEPTION_ODD_TAPS})
    # Gradients in float64: through a max pool they are discontinuous at ties, and in float32 a near-tie's winner
    # depends on the summation order, which changes with the thread count (1.9 % of this logit gradient moves
    # between 1 and 2 threads). In float64 the same near-ties are ~1e9 times narrower.
    model = model.double()
    t = model(x[:1].double())
    unit = t["mixed3b_pre_relu"][0, 379, 14, 14]
    ref["grad/mixed3b_pre_relu/mixed3a"] = torch.autograd.grad(unit, t["mixed3a"])[0]
    logit = t["softmax2_pre_activation_matmul"][0, 5]
    ref["grad/logit/mixed4d"] = torch.autograd.grad(logit, t["mixed4d"])[0]
    torch.save(ref, os.path.join(out, "inception_v1_ref.pt"))


def randomize_batchnorm(model):
    """Non-trivial statistics and affine parameters, so that eval-mode BatchNorm is not near the identity."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(7)


def save_shapes(state, path):
    with open(path, "w") as f:
        for k, v in state.items():
            f.write(" ".join([k] + [str(d) for d in v.shape]) + "\n")


def hooked_forward(model, x, names):
    """The outputs of the named modules, cloned when produced (torchvision's ReLUs work in place)."""
    seen = {}
    modules = dict(model.named_modules())
    hooks = [modules[n].register_forward_hook(lambda m, i, o, n=n: seen.__setitem__(n, o.clone())) for n in names]
    with torch.no_grad():
        logits = model(x)
    for h in hooks:
        h.remove()
    return logits, seen


def vgg(out, bn):
    name = "vgg11_bn" if bn else "vgg11"
    torch.manual_seed(21 if bn else 22)
    model = (torchvision.models.vgg11_bn if bn else torchvision.models.vgg11)(weights=None)
    save_shapes(model.state_dict(), os.path.join(out, name + "_shapes.txt"))
    model.classifier[0] = nn.Linear(512 * 7 * 7, 64)
    model.classifier[3] = nn.Linear(64, 64)
    model.classifier[6] = nn.Linear(64, 10)
    randomize_batchnorm(model)
    model.eval()
    torch.save(model.state_dict(), os.path.join(out, name + "_narrow.pt"))

    g = torch.Generator().manual_seed(23)
    ref = {}
    taps = ["features.0", "features.2", "features.12", "avgpool", "classifier.0", "classifier.4"]
    for key, batch, size in (("", 1, 224), ("small/", 2, 80)):  # at 80 the adaptive pool really pools (2x2 -> 7x7)
        x = torch.randn(batch, 3, size, size, generator=g)
        logits, seen = hooked_forward(model, x, taps)
        ref[key + "input"] = x
        ref[key + "logits"] = logits
        ref.update({key + n: v for n, v in seen.items()})
    torch.save(ref, os.path.join(out, name + "_ref.pt"))


def fmnist(out, bn):
    name = "fmnist_cnn_bn" if bn else "fmnist_cnn"
    torch.manual_seed(31 if bn else 32)
    model = FmnistCnnRef(bn)
    randomize_batchnorm(model)
    model.eval()
    torch.save(model.state_dict(), os.path.join(out, name + ".pt"))
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(33))
    with torch.no_grad():
        ref = model.taps(x)
    ref["input"] = x
    torch.save(ref, os.path.join(out, name + "_ref.pt"))


def tensor_zoo(out):
    """Tensors the state-dict reader must rebuild: views sharing one storage, strides, dtypes, 0-d and empty."""
    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    torch.save(collections.OrderedDict([
        ("x", x), ("transposed", x.t()), ("row", x[1]), ("column", x[:, 2]), ("half", x.half()),
        ("double", x.double() / 3), ("long", torch.arange(-3, 3)), ("bool", x > 5), ("scalar", torch.tensor(-2.5)),
        ("empty", torch.zeros(0, 5)), ("parameter", nn.Parameter(torch.ones(2))),
    ]), os.path.join(out, "tensors.pt"))
    torch.save([x], os.path.join(out, "list.pt"))


def main():
    out = os.path.join(sys.argv[1], SUBDIR)
    os.makedirs(out, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256((torch.__version__ + torchvision.__version__).encode())
    for f in sorted(os.listdir(here)):
        if f == "fixture_zoo.py" or (f.startswith("zoo_") and f.endswith(".py")):
            with open(os.path.join(here, f), "rb") as src:
                h.update(f.encode() + src.read())
    stamp = os.path.join(out, STAMP)
    if os.path.exists(stamp) and open(stamp).read() == h.hexdigest():
        return
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    inception(out)
    vgg(out, bn=False)
    vgg(out, bn=True)
    fmnist(out, bn=False)
    fmnist(out, bn=True)
    tensor_zoo(out)
    with open(stamp, "w") as f:  # last, so that an interrupted run is redone
        f.write(h.hexdigest())


if __name__ == "__main__":
    main()
