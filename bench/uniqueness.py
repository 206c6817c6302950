"""bench/uniqueness: the uniqueness experiment (paper §6, eq. 6) on torchvision googlenet traced at 224 (the tests'
seeded, He-initialised one) over N PNG images: `tension uniqueness` (units; selectors mei, l1, l2; figures
included) against the same experiment as a plain Python PyTorch loop (one forward per image with hooks on the
feature layer and its attribution layer, one backward per feature, then the top m and eq. 6), both timed as whole
processes in this script, on the same images and units (the Python loop takes tension's units from its run.json).
U must agree (within one image at a selection's boundary, where float32 near-ties may order differently).

Usage: /usr/bin/python3 bench/uniqueness.py BUILD [N] [LAYERS] [N_FEATURES] [M]
  N: images (default 200); LAYERS: feature layers, comma-separated (default inception4a,inception4c);
  N_FEATURES: units per layer (default 20); M: images per feature and selector (default 20)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
from fixture_torchvision import googlenet, random_png_folder  # noqa: E402

build = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
LAYERS = (sys.argv[3] if len(sys.argv) > 3 else "inception4a,inception4c").split(",")
NF = int(sys.argv[4]) if len(sys.argv) > 4 else 20
M = int(sys.argv[5]) if len(sys.argv) > 5 else 20

tmp = tempfile.mkdtemp(prefix="bench_uniqueness_")
model = googlenet().eval()
model_file = os.path.join(tmp, "googlenet.pt")
weights = os.path.join(tmp, "googlenet_state.pt")
with torch.no_grad():
    torch.jit.trace(model, torch.rand(1, 3, 224, 224)).save(model_file)
torch.save(model.state_dict(), weights)
images = os.path.join(tmp, "images")
random_png_folder(images, N, 2)
env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_WAIT_POLICY="PASSIVE")

out = os.path.join(tmp, "tension")
t0 = time.perf_counter()
subprocess.run([os.path.join(build, "tension"), "uniqueness", model_file, images, "--layers", ",".join(LAYERS),
                "-n", str(NF), "-m", str(M), "--features", "units", "--selectors", "mei,l1,l2", "--shared-min",
                str(max(1, NF * 3 // 4)), "--batch-size", "8", "--plan-cache", "", "--out", out],
               check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
t_tension = time.perf_counter() - t0
with open(os.path.join(out, "run.json")) as f:
    res = json.load(f)["results"]["layers"]
plan = [{"layer": l["layer"], "attribution": l["attribution_layer"], "units": l["units"]} for l in res]

# The plain Python loop, as its own process: what a researcher would write with hooks.
PY = """
import json, os, sys
import torch, torchvision
from torchvision.io import read_image
weights, images, plan, m = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
model = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False, num_classes=10)
model.load_state_dict(torch.load(weights))
model.eval()
for p in model.parameters():
    p.requires_grad_(False)
files = sorted(os.listdir(images))
result = []
for layer in plan:
    acts = {}
    hooks = [getattr(model, layer["attribution"]).register_forward_hook(lambda mod, i, o: acts.__setitem__("h", o)),
             getattr(model, layer["layer"]).register_forward_hook(lambda mod, i, o: acts.__setitem__("t", o))]
    scores = {"mei": [], "l1": [], "l2": []}  # [image][unit]
    for f in files:
        x = read_image(os.path.join(images, f)).float().div(255).unsqueeze(0).requires_grad_(True)
        model(x)
        h, t = acts["h"], acts["t"]
        row = {"mei": [], "l1": [], "l2": []}
        for k, u in enumerate(layer["units"]):
            fv = t[0, u, t.shape[2] // 2, t.shape[3] // 2]
            g, = torch.autograd.grad(fv, h, retain_graph=k + 1 < len(layer["units"]))
            s = (g * h).detach().double()
            row["mei"].append(float(fv))
            row["l1"].append(float(s.abs().sum()))
            row["l2"].append(float(s.pow(2).sum().sqrt()))
        for key in scores:
            scores[key].append(row[key])
    for hk in hooks:
        hk.remove()
    U = {}
    for key, per_image in scores.items():
        sets = []
        for k in range(len(layer["units"])):
            order = sorted(range(len(files)), key=lambda i: (-per_image[i][k], i))
            sets.append(set(order[:m]))
        U[key] = len(set().union(*sets)) / (len(sets) * m)
    result.append(U)
print(json.dumps(result))
"""
t0 = time.perf_counter()
py = subprocess.run([sys.executable, "-c", PY, weights, images, json.dumps(plan), str(M)], check=True, env=env,
                    capture_output=True, text=True)
t_python = time.perf_counter() - t0
py_u = json.loads(py.stdout.strip().splitlines()[-1])

print(f"uniqueness on googlenet traced at 224: {N} PNG images, layers {', '.join(LAYERS)}, {NF} units each, "
      f"m = {M}, selectors mei/l1/l2; whole processes, one run each")
tol = 1.0 / (NF * M)
for l, p in zip(res, py_u):
    for key in ("mei", "l1", "l2"):
        t = l["U"]["units"][key]
        print(f"  {l['layer']:12s} -> {l['attribution_layer']:12s} {key:4s} U: tension {t:.4f}  Python {p[key]:.4f}")
        assert abs(t - p[key]) <= tol + 1e-12, f"U differs by more than one image: {t} vs {p[key]}"
print(f"  Python loop (one forward per image, hooks, a backward per unit): {t_python:8.1f} s")
print(f"  tension uniqueness (figures included)                         : {t_tension:8.1f} s")
print(f"  tension is {t_python / t_tension:.1f}x faster")
shutil.rmtree(tmp, ignore_errors=True)
