"""bench/uniqueness: the uniqueness experiment (paper §6, eq. 6) on torchvision googlenet traced at 224 (the tests'
seeded, He-initialised one) over N PNG images, both families (20 random units and 20 spread-out k-means directions
read as dot*cos^2, per layer), selectors mei, l1, l2: `tension uniqueness` against the same experiment as a plain
Python PyTorch loop (one forward per image with hooks on the feature layer and its attribution layer, one backward
per feature, then the top m and eq. 6), both timed as whole processes in this script. The Python loop takes
tension's units and k-means directions from its run folder, so it does not pay for k-means (tension does); U must
agree (within one image at a selection's boundary, where float32 near-ties may order differently). tension runs
twice: with every figure, and without the crop figures (Fig 8b, Fig 16), whose effective receptive fields are a
fixed cost per layer.

Usage: /usr/bin/python3 bench/uniqueness.py BUILD [N] [LAYERS] [N_FEATURES] [M]
  N: images (default 200); LAYERS: feature layers, comma-separated (default inception3b,inception4a,inception4c);
  N_FEATURES: features per layer and family (default 20); M: images per feature and selector (default 20)."""
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
LAYERS = (sys.argv[3] if len(sys.argv) > 3 else "inception3b,inception4a,inception4c").split(",")
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


def run_tension(out, *extra):
    t0 = time.perf_counter()
    subprocess.run([os.path.join(build, "tension"), "uniqueness", model_file, images, "--layers", ",".join(LAYERS),
                    "-n", str(NF), "-m", str(M), "--kmeans-k", str(min(100, N)), "--shared-min",
                    str(max(1, NF * 3 // 4)), "--plan-cache", "", "--out", out, *extra],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - t0
    with open(os.path.join(out, "run.json")) as f:
        doc = json.load(f)
    return seconds, doc["results"]["layers"], doc["timings_s"]


t_lean, _, _ = run_tension(os.path.join(tmp, "lean"), "--no-crop-figures")
out = os.path.join(tmp, "tension")
t_full, res, timings = run_tension(out)
plan = [{"layer": l["layer"], "attribution": l["attribution_layer"], "units": l["units"],
         "directions": os.path.join(out, l["layer"], "kmeans", "directions.npy")} for l in res]

# The plain Python loop, as its own process: what a researcher would write with hooks.
PY = """
import json, os, sys, time
import numpy as np
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
    t0 = time.perf_counter()
    dirs = torch.from_numpy(np.load(layer["directions"])).float()
    acts = {}
    hooks = [getattr(model, layer["attribution"]).register_forward_hook(lambda mod, i, o: acts.__setitem__("h", o)),
             getattr(model, layer["layer"]).register_forward_hook(lambda mod, i, o: acts.__setitem__("t", o))]
    families = {"units": len(layer["units"]), "kmeans": len(dirs)}
    scores = {f: {"mei": [], "l1": [], "l2": []} for f in families}  # [image][feature]
    for f in files:
        x = read_image(os.path.join(images, f)).float().div(255).unsqueeze(0).requires_grad_(True)
        model(x)
        h, t = acts["h"], acts["t"]
        centre = t[0, :, t.shape[2] // 2, t.shape[3] // 2]
        readouts = [("units", centre[u]) for u in layer["units"]]
        for v in dirs:
            dot = centre @ v
            cos = dot / (centre.norm() * v.norm()).clamp_min(torch.finfo(torch.float32).tiny)
            readouts.append(("kmeans", dot * cos ** 2))
        rows = {fam: {"mei": [], "l1": [], "l2": []} for fam in families}
        for k, (fam, fv) in enumerate(readouts):
            g, = torch.autograd.grad(fv, h, retain_graph=k + 1 < len(readouts))
            s = (g * h).detach().double()
            rows[fam]["mei"].append(float(fv))
            rows[fam]["l1"].append(float(s.abs().sum()))
            rows[fam]["l2"].append(float(s.pow(2).sum().sqrt()))
        for fam in families:
            for key in scores[fam]:
                scores[fam][key].append(rows[fam][key])
    for hk in hooks:
        hk.remove()
    U = {}
    for fam, per_selector in scores.items():
        U[fam] = {}
        for key, per_image in per_selector.items():
            sets = []
            for k in range(families[fam]):
                order = sorted(range(len(files)), key=lambda i: (-per_image[i][k], i))
                sets.append(set(order[:m]))
            U[fam][key] = len(set().union(*sets)) / (len(sets) * m)
    result.append({"U": U, "seconds": time.perf_counter() - t0})
print(json.dumps(result))
"""
t0 = time.perf_counter()
py = subprocess.run([sys.executable, "-c", PY, weights, images, json.dumps(plan), str(M)], check=True, env=env,
                    capture_output=True, text=True)
t_python = time.perf_counter() - t0
py_res = json.loads(py.stdout.strip().splitlines()[-1])

print(f"uniqueness on googlenet traced at 224: {N} PNG images, layers {', '.join(LAYERS)}, {NF} units and {NF} "
      f"k-means directions each, m = {M}, selectors mei/l1/l2; whole processes, one run each")
tol = 1.0 / (NF * M)
for l, p in zip(res, py_res):
    for fam in ("units", "kmeans"):
        for key in ("mei", "l1", "l2"):
            t, q = l["U"][fam][key], p["U"][fam][key]
            print(f"  {l['layer']:12s} <- {l['attribution_layer']:12s} {fam:6s} {key:4s} U: tension {t:.4f}  "
                  f"Python {q:.4f}")
            assert abs(t - q) <= tol + 1e-12, f"U differs by more than one image: {t} vs {q}"
    t_layer = timings[l["layer"] + " attribution"] + timings.get(l["layer"] + " kmeans", 0)
    print(f"  {l['layer']}: Python loop {p['seconds']:.1f} s, tension's k-means + pass {t_layer:.1f} s "
          f"({p['seconds'] / t_layer:.1f}x)")
print(f"  Python loop (one forward per image, hooks, a backward per feature): {t_python:8.1f} s")
print(f"  tension uniqueness, without the crop figures                    : {t_lean:8.1f} s   "
      f"{t_python / t_lean:.1f}x faster")
print(f"  tension uniqueness, every figure                                : {t_full:8.1f} s   "
      f"{t_python / t_full:.1f}x faster")
shutil.rmtree(tmp, ignore_errors=True)
