"""bench/featurevis: steps/s of the 121-step accentuation recipe on torchvision googlenet (traced, seeded He init, 224 input,
512 canvas, 16 transformation draws per step): S+ and S- of inception3b's centre unit attributed to inception3a,
two batch items, MACO from a seed image, Adam lr 0.02, dot*cos (p = 1). tension against the same loop in Python
PyTorch, run here as the paper's code runs it (faccent's render_vis: a forward hook on the attribution layer, the
whole network run each step). Checks first that both start from the same image (the seed, rendered) and the same
target S. The two alternate for ROUNDS rounds of STEPS steps each (so that load from other work on the machine
falls on both alike); the ratio is the median of the rounds' ratios.
Usage: /usr/bin/python3 bench/featurevis.py BUILD_DIR [STEPS] [ROUNDS] [TRANSFORMS]"""
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "python"))
from fixture_torchvision import googlenet  # noqa: E402  (the tests' seeded, He-initialised googlenet)

build = sys.argv[1]
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
T = int(sys.argv[4]) if len(sys.argv) > 4 else 16
CANVAS, SIZE, UNIT = 512, 224, 7
torch.set_num_threads(os.cpu_count())

model = googlenet().eval()
for p in model.parameters():
    p.requires_grad_(False)
tmp = tempfile.mkdtemp(prefix="bench_fv_")
torch.jit.trace(model, torch.rand(1, 3, SIZE, SIZE)).save(os.path.join(tmp, "googlenet.pt"))
# A smooth seed image: coarse noise upsampled to the canvas.
g = torch.Generator().manual_seed(0)
seed = F.interpolate(torch.rand(1, 3, 16, 16, generator=g), size=CANVAS, mode="bicubic", align_corners=False)
seed = seed.clamp(0, 1)[0]
np.save(os.path.join(tmp, "seed.npy"), seed.numpy())

cmd = [os.path.join(build, "bench", "bench_featurevis"), os.path.join(tmp, "googlenet.pt"), os.path.join(tmp, "seed.npy"),
       f"inception3b:{UNIT}", "inception3a", str(STEPS), str(T), tmp]


def run_tension():
    return float(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])


tension_rates = [run_tension()]


def hooked(x):
    acts = {}
    h1 = model.inception3a.register_forward_hook(lambda m, i, o: acts.__setitem__("h", o))
    h2 = model.inception3b.register_forward_hook(lambda m, i, o: acts.__setitem__("t", o))
    model(x)
    h1.remove()
    h2.remove()
    return acts["h"], acts["t"]


# The target: S = grad * act at inception3a on the seed resized to the input, cropped to tension's footprint.
x = F.interpolate(seed[None], size=SIZE, mode="bilinear", align_corners=False, antialias=True)
with torch.enable_grad():
    x.requires_grad_(True)
    h, t = hooked(x)
    grad, = torch.autograd.grad(t[0, UNIT, t.shape[2] // 2, t.shape[3] // 2], h)
top, left, bottom, right = np.load(os.path.join(tmp, "box.npy")).tolist()
S = (grad * h)[0, :, top:bottom, left:right].detach()
s_cpp = torch.from_numpy(np.load(os.path.join(tmp, "s.npy")))
err = (S - s_cpp).abs().max().item() / S.abs().max().item()
assert err < 1e-4, f"tension's S differs from Python's: max rel err {err:.2e}"
outside = (grad * h)[0].abs().sum().item() - S.abs().sum().item()
assert outside <= 1e-6 * S.abs().sum().item(), "S is not zero outside tension's footprint"
targets = [S.clamp(min=0), (-S).clamp(min=0)]

# MACO, seeded (docs/paper-code.md §2.8.1).
M = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
M = M / M.norm(dim=0).max()
seeds = seed[None].repeat(2, 1, 1, 1)
d = torch.einsum("ij,bjhw->bihw", torch.linalg.inv(M), torch.logit(seeds.clamp(1e-6, 1 - 1e-6)))
buf = torch.fft.rfft2(d)
mag = buf.abs()
phase = buf.angle().clone().requires_grad_(True)
gate = torch.full_like(mag, 5.0).requires_grad_(True)


def render():
    z = torch.fft.irfft2(torch.polar(mag * torch.sigmoid(gate), phase), s=(CANVAS, CANVAS))
    return torch.sigmoid(torch.einsum("ij,bjhw->bihw", M, z))


img0 = render().detach()
e0 = (img0 - torch.from_numpy(np.load(os.path.join(tmp, "image0.npy")))).abs().max().item()
assert e0 < 1e-4, f"tension's step-0 image differs from Python's by {e0:.2e}"
assert (img0 - seeds).abs().max().item() <= 2 / 255


def transforms(img):
    out = []
    for _ in range(T):
        side = np.random.uniform(0.9, 0.99)
        cy, cx = (min(max(np.random.normal(0.5, 0.05), side / 2), 1 - side / 2) for _ in range(2))
        top_, left_, s = int((cy - side / 2) * CANVAS), int((cx - side / 2) * CANVAS), int(side * CANVAS)
        c = img[:, :, top_:top_ + s, left_:left_ + s]
        noise = torch.randn(1, *c.shape[1:]) * 0.02 + (torch.rand(1, *c.shape[1:]) * 2 - 1) * 0.01
        out.append(F.interpolate(c + noise, size=SIZE, mode="bilinear", align_corners=True, antialias=True))
    return torch.cat(out)  # input range [0, 1]: the identity


def dot_cos(a, s):  # eq. 5, p = 1, per draw
    a = a.flatten(1)
    s = s.flatten()
    dot = a @ s
    return dot * dot / (a.norm(dim=1) * s.norm())


def run_python():
    with torch.no_grad():
        phase.copy_(buf.angle())
        gate.fill_(5.0)
    opt = torch.optim.Adam([phase, gate], lr=0.02)
    np.random.seed(0)
    acc = None
    t0 = time.perf_counter()
    for step in range(STEPS):
        opt.zero_grad()
        img = render()
        img.retain_grad()
        with torch.enable_grad():
            h, _ = hooked(transforms(img))
        h = h.view(T, 2, *h.shape[1:])[:, :, :, top:bottom, left:right]
        loss = -sum(dot_cos(h[:, b], targets[b]).mean() for b in range(2))
        loss.backward()
        acc = img.grad.abs() if acc is None else acc + img.grad.abs()
        if step + 1 < STEPS:
            opt.step()
    return STEPS / (time.perf_counter() - t0)


python_rates = [run_python()]
for r in range(1, ROUNDS):
    tension_rates.append(run_tension())
    python_rates.append(run_python())
ratios = [t / p for t, p in zip(tension_rates, python_rates)]

print(f"googlenet inception3b:{UNIT} -> inception3a, accentuation toward S+ and S- (batch 2), {CANVAS} canvas, "
      f"{SIZE} input, {T} draws/step, {ROUNDS} alternating rounds of {STEPS} steps, {torch.get_num_threads()} threads; "
      f"same seed render and S (max rel err {err:.1e})")
print("  Python PyTorch (paper's loop, hooks, full forward): " + "  ".join(f"{r:6.3f}" for r in python_rates) + " steps/s")
print("  tension (forward stops at inception3a, input crop): " + "  ".join(f"{r:6.3f}" for r in tension_rates) + " steps/s")
print(f"  ratio tension / Python, median of rounds: {statistics.median(ratios):.2f}x  "
      f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
