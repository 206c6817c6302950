"""bench/attribution: images/s for K centre units of googlenet's inception3b attributed to inception3a
(torchvision googlenet traced, batch 8, 224x224), tension against two Python PyTorch loops run here:
  A. one forward per feature per batch, hooks on inception3a (what Captum's LayerGradientXActivation does);
  B. one forward, then K backward passes (retain_graph).
Checks that all three give the same E = sum(S) per image and feature, and prints the medians and ratios.
Usage: /usr/bin/python3 bench/attribution.py BUILD_DIR [K] [REPS] [DEVICE]
DEVICE (cpu, cuda, cuda:N; default cpu): where all three run; on CUDA, TF32 is off (float32 throughout, as
the equality check needs), and the CUDA work of each timed batch is finished before its clock stops."""
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
DEVICE = torch.device(sys.argv[4] if len(sys.argv) > 4 else "cpu")
if DEVICE.type == "cuda":
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
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
model.to(DEVICE)
x = x.to(DEVICE)


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
    out = []
    for c in range(K):
        with torch.enable_grad():
            h, t = hooked_forward(model)
            g, = torch.autograd.grad(centre(t, c).sum(), h)
        out.append((g * h).flatten(1).sum(1).detach())
    return torch.stack(out).double().cpu().numpy()  # [K, B]; the copy waits for the device


def loop_b():  # one forward, K backward passes
    out = []
    with torch.enable_grad():
        h, t = hooked_forward(model)
        for c in range(K):
            g, = torch.autograd.grad(centre(t, c).sum(), h, retain_graph=c + 1 < K)
            out.append((g * h).flatten(1).sum(1).detach())
    return torch.stack(out).double().cpu().numpy()


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
       os.path.join(tmp, "input.pt"), "inception3b", str(K), "inception3a", str(REPS), out_npy, str(DEVICE)]
run = subprocess.run(cmd, check=True, capture_output=True, text=True)
tc = float(run.stdout.strip().splitlines()[-1])
ec = np.load(out_npy)

for name, e in (("A", ea), ("B", eb)):
    err = np.abs(ec - e).max() / max(np.abs(e).max(), 1e-12)
    assert err < 1e-4, f"tension and Python loop {name} disagree: max rel err {err:.2e}"
on = "" if DEVICE.type == "cpu" else f", on {DEVICE} ({torch.cuda.get_device_name(DEVICE)}, TF32 off)"
print(f"googlenet inception3b (K={K} centre units) -> inception3a, batch {B}, 224x224, {REPS} reps, "
      f"{torch.get_num_threads()} threads{on}; equal results (max rel err < 1e-4)")
print(f"  Python loop A, one forward per feature : {ta:7.3f} s/batch  {B / ta:7.2f} img/s")
print(f"  Python loop B, 1 forward + K backward  : {tb:7.3f} s/batch  {B / tb:7.2f} img/s")
print(f"  tension (Attributor)                   : {tc:7.3f} s/batch  {B / tc:7.2f} img/s")
for line in run.stdout.strip().splitlines()[:-1] + run.stderr.strip().splitlines():  # the engine's warnings
    print("    " + line)
print(f"  ratio tension / loop A: {ta / tc:.2f}x   tension / loop B: {tb / tc:.2f}x")
