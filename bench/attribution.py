"""bench/attribution: images/s for K centre units of googlenet's inception3b attributed to inception3a
(torchvision googlenet traced, batch 8, 224x224), tension against two Python PyTorch loops run here:
  A. one forward per feature per batch, hooks on inception3a (what Captum's LayerGradientXActivation does);
  B. one forward, then K backward passes (retain_graph).
Two ways:
  - the pass: seconds per batch once everything is loaded and planned (medians of REPS batches);
  - the whole process: `tension attribute` over a folder of N PNG images into a run store, cold plan cache and
    warm, against loop B as a Python script a user would write (import torch, load the weights, read the PNGs,
    hooks, save E), both timed from process start to exit (medians of REPS runs).
Checks that all of them give the same E = sum(S) per image and feature, and prints the medians and ratios.
Usage: /usr/bin/python3 bench/attribution.py BUILD_DIR [K] [REPS] [DEVICE] [N]
DEVICE (cpu, cuda, cuda:N; default cpu): where all run; on CUDA, TF32 is off (float32 throughout, as
the equality check needs), and the CUDA work of each timed batch is finished before its clock stops.
N: images of the whole-process runs (default 256; 0 skips them)."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
from fixture_torchvision import googlenet, random_png_folder  # noqa: E402  (the tests' seeded googlenet)

build = sys.argv[1]
K = int(sys.argv[2]) if len(sys.argv) > 2 else 20
REPS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
DEVICE = torch.device(sys.argv[4] if len(sys.argv) > 4 else "cpu")
N = int(sys.argv[5]) if len(sys.argv) > 5 else 256
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


def timed(fn, warmup=True):
    """Median seconds of fn over REPS calls (after one untimed call when warmup), and its last result."""
    if warmup:
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


# The whole process. A Python user's loop B as a script of its own: its E must be the pass's (checked below).
PY_WHOLE = """
import os, sys
import numpy as np
import torch, torchvision
from torchvision.io import read_image
weights, images, K, out, device = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], torch.device(sys.argv[5])
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False, num_classes=10)
model.load_state_dict(torch.load(weights))
model.eval().to(device)
for p in model.parameters():
    p.requires_grad_(False)
acts = {}
model.inception3a.register_forward_hook(lambda m, i, o: acts.__setitem__("h", o))
model.inception3b.register_forward_hook(lambda m, i, o: acts.__setitem__("t", o))
files = sorted(os.listdir(images))
E = []
for b in range(0, len(files), 8):
    x = torch.stack([read_image(os.path.join(images, f)) for f in files[b:b + 8]]).float().div(255).to(device)
    x.requires_grad_(True)
    model(x)
    h, t = acts["h"], acts["t"]
    rows = []
    for c in range(K):
        g, = torch.autograd.grad(t[:, c, t.shape[2] // 2, t.shape[3] // 2].sum(), h, retain_graph=c + 1 < K)
        rows.append((g * h).flatten(1).sum(1).detach())
    E.append(torch.stack(rows, 1).double().cpu())
np.save(out, torch.cat(E).numpy())
"""


def whole_processes():
    images = os.path.join(tmp, "images")
    random_png_folder(images, N, 1)
    weights = os.path.join(tmp, "googlenet_state.pt")
    torch.save(model.state_dict(), weights)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    tension = os.path.join(build, "tension")
    features = [a for c in range(K) for a in ("-f", f"inception3b:{c}")]
    cache = os.path.join(tmp, "plans")
    runs = iter(range(10**6))

    def run_tension(cold):
        if cold:
            shutil.rmtree(cache, ignore_errors=True)
        out = os.path.join(tmp, f"run{next(runs)}")
        subprocess.run([tension, "--device", str(DEVICE), "attribute", os.path.join(tmp, "googlenet.pt"), images,
                        *features, "-l", "inception3a", "--out", out, "--batch-size", "8", "--plan-cache", cache],
                       check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return out

    def run_python():
        out = os.path.join(tmp, "python_e.npy")
        subprocess.run([sys.executable, "-c", PY_WHOLE, weights, images, str(K), out, str(DEVICE)], check=True,
                       env=env)
        return out

    tp, py_out = timed(run_python, warmup=False)
    tcold, _ = timed(lambda: run_tension(True), warmup=False)
    twarm, run_dir = timed(lambda: run_tension(False), warmup=False)
    exported = os.path.join(tmp, "exported")
    subprocess.run([tension, "export", run_dir, "--npy", exported], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    ep = np.load(py_out)
    et = np.stack([np.load(os.path.join(exported, f"e_F{c}_L0.npy")) for c in range(K)], 1)
    err = np.abs(et - ep).max() / max(np.abs(ep).max(), 1e-12)
    assert et.shape == ep.shape and err < 1e-4, f"tension and the Python script disagree: max rel err {err:.2e}"
    print(f"whole process, {N} PNG images (224x224) to E on disk, batch 8, {REPS} runs each; equal results "
          f"(max rel err {err:.1e})")
    print(f"  {'Python script, loop B':<37}: {tp:7.2f} s  {N / tp:7.2f} img/s")
    for name, t in (("cold plan cache", tcold), ("warm plan cache", twarm)):
        print(f"  {'tension attribute, ' + name:<37}: {t:7.2f} s  {N / t:7.2f} img/s   {tp / t:.2f}x the Python script")


if N:
    whole_processes()
