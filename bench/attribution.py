"""bench/attribution: images/s for K centre units of googlenet's inception3b attributed to inception3a
(torchvision googlenet traced, batch 8, 224x224), tension against two Python PyTorch loops run here:
  A. one forward per feature per batch, hooks on inception3a (what Captum's LayerGradientXActivation does);
  B. one forward, then K backward passes (retain_graph).
Checks that all three give the same E = sum(S) per image and feature, and prints the medians and ratios.
Usage: /usr/bin/python3 bench/attribution.py BUILD_DIR [K] [REPS]"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
from fixture_torchvision import googlenet  # noqa: E402  (the tests' seeded, He-initialised googlenet)

build = sys.argv[1]
K = int(sys.argv[2]) if len(sys.argv) > 2 else 20
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
B = 8
torch.set_num_threads(os.cpu_count())

model = googlenet().eval()
for p in model.parameters():
    p.requires_grad_(False)
x = torch.rand(B, 3, 224, 224, generator=torch.Generator().manual_seed(0))
tmp = tempfile.mkdtemp(prefix="bench_attr_")
traced = torch.jit.trace(model, x)
traced.save(os.path.join(tmp, "googlenet.pt"))
torch.save({"x": x}, os.path.join(tmp, "input.pt"))


def hooked_forward(m):
    acts = {}

    def keep(name):
        def hook(mod, inp, out):
            acts[name] = out
        return hook

    h1 = m.inception3a.register_forward_hook(keep("h"))
    h2 = m.inception3b.register_forward_hook(keep("t"))
    m(x)
    h1.remove()
    h2.remove()
    return acts["h"], acts["t"]


def centre(t, c):
    return t[:, c, t.shape[2] // 2, t.shape[3] // 2]


def loop_a():  # one forward per feature
    out = np.zeros((K, B))
    for c in range(K):
        with torch.enable_grad():
            h, t = hooked_forward(model)
            g, = torch.autograd.grad(centre(t, c).sum(), h)
        out[c] = (g * h).flatten(1).sum(1).detach().numpy()
    return out


def loop_b():  # one forward, K backward passes
    out = np.zeros((K, B))
    with torch.enable_grad():
        h, t = hooked_forward(model)
        for c in range(K):
            g, = torch.autograd.grad(centre(t, c).sum(), h, retain_graph=c + 1 < K)
            out[c] = (g * h).flatten(1).sum(1).detach().numpy()
    return out


# Autograd needs a graph from the input: make the input a leaf that requires grad.
x.requires_grad_(True)


def timed(fn):
    fn()
    ts = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        res = fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), res


ta, ea = timed(loop_a)
tb, eb = timed(loop_b)
out_npy = os.path.join(tmp, "e.npy")
cmd = [os.path.join(build, "bench", "bench_attribution"), os.path.join(tmp, "googlenet.pt"),
       os.path.join(tmp, "input.pt"), "inception3b", str(K), "inception3a", str(REPS), out_npy]
run = subprocess.run(cmd, check=True, capture_output=True, text=True)
tc = float(run.stdout.strip().splitlines()[-1])
ec = np.load(out_npy)

for name, e in (("A", ea), ("B", eb)):
    err = np.abs(ec - e).max() / max(np.abs(e).max(), 1e-12)
    assert err < 1e-4, f"tension and Python loop {name} disagree: max rel err {err:.2e}"
print(f"googlenet inception3b (K={K} centre units) -> inception3a, batch {B}, 224x224, {REPS} reps, "
      f"{torch.get_num_threads()} threads; equal results (max rel err < 1e-4)")
print(f"  Python loop A, one forward per feature : {ta:7.3f} s/batch  {B / ta:7.2f} img/s")
print(f"  Python loop B, 1 forward + K backward  : {tb:7.3f} s/batch  {B / tb:7.2f} img/s")
print(f"  tension (Attributor)                   : {tc:7.3f} s/batch  {B / tc:7.2f} img/s")
for line in run.stderr.strip().splitlines():
    print("    " + line)
print(f"  ratio tension / loop A: {ta / tc:.2f}x   tension / loop B: {tb / tc:.2f}x")
