"""Ground truth for the uniqueness experiment (paper §6, eq. 6): a hand-built network whose attribution layer has
one "diagonal" channel feeding every feature of the next layer with both signs, and images that do or do not
express it. Usage: fixture_uniqueness.py OUTDIR

Images are 16x16 grey, one row per channel of relu1 (conv1 copies row c of the image into channel c, 16 positions).
conv2 reads feature j (15 of them) as b * sum of channel j+1 plus a * (+1, -1, +1, ...) . channel 0: channel 0 is
the diagonal, excited and inhibited alike for every feature (its sum cancels), channel j+1 is feature j's own.
- 6 images per feature express only its own channel (f_j = 4v, v in [0.5, 1]): its MEIs, unique to it;
- 12 images express only the diagonal (f_j = 0 for every j, ||S||_1 = 64 d, d in [0.45, 1]): every feature's
  largest attributions, shared by all;
- 20 faint noise images.
With m = 5, the MEI selector gives U = 1 and the L1 and L2 selectors U = 1/15. expected.json holds U as computed
here, independently of tension: f_v, S = grad(f_v, relu1) * relu1 by autograd, top m by value (ties in dataset
order), eq. 6, and the images in every feature's L1 top m."""
import json
import os
import struct
import sys

import torch
import torch.nn as nn

out = os.path.join(sys.argv[1], "uniqueness")
os.makedirs(out, exist_ok=True)
C, FEATURES, A, B, M = 16, 15, 4.0, 0.25, 5


class Diagonal(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, C, (C, 1), bias=False)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(C, FEATURES, (1, C), bias=False)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(FEATURES, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.relu2(self.conv2(self.relu1(self.conv1(x)))), 1))


net = Diagonal().eval()
with torch.no_grad():
    net.conv1.weight.zero_()
    for c in range(C):
        net.conv1.weight[c, 0, c, 0] = 1
    net.conv2.weight.zero_()
    signs = torch.tensor([1.0 if k % 2 == 0 else -1.0 for k in range(C)])
    for j in range(FEATURES):
        net.conv2.weight[j, 0, 0, :] = A * signs
        net.conv2.weight[j, j + 1, 0, :] = B
torch.jit.trace(net, torch.rand(1, 1, C, C)).save(os.path.join(out, "diagonal.pt"))

gen = torch.Generator().manual_seed(3)
images = []
for j in range(FEATURES):
    for v in torch.linspace(0.5, 1.0, 6):
        img = torch.zeros(C, C)
        img[j + 1] = v
        images.append(img)
for d in torch.linspace(0.45, 1.0, 12):
    img = torch.zeros(C, C)
    img[0] = d
    images.append(img)
for _ in range(20):
    images.append(torch.rand(C, C, generator=gen) * 0.05)
# Interleave, so that no selection is the dataset's order by accident.
order = torch.randperm(len(images), generator=gen).tolist()
pixels = torch.stack([images[i] for i in order]).mul(255).round().to(torch.uint8)
with open(os.path.join(out, "gt-images-idx3-ubyte"), "wb") as f:
    f.write(struct.pack(">IIII", 0x803, len(order), C, C))
    f.write(pixels.numpy().tobytes())
with open(os.path.join(out, "gt-labels-idx1-ubyte"), "wb") as f:
    f.write(struct.pack(">II", 0x801, len(order)))
    f.write(bytes(len(order)))

# The reference, on the images as stored (uint8 / 255, as tension reads them).
x = pixels.float().div(255).unsqueeze(1)
h = net.relu1(net.conv1(x)).detach().requires_grad_(True)
f = net.conv2(h)[:, :, 0, 0]  # pre-ReLU f_v of each feature: [N, 15]
fv, l1, l2 = [], [], []
for j in range(FEATURES):
    g, = torch.autograd.grad(f[:, j].sum(), h, retain_graph=True)
    s = (g * h).detach().flatten(1).double()
    fv.append(f[:, j].detach().double())
    l1.append(s.abs().sum(1))
    l2.append(s.pow(2).sum(1).sqrt())


def top(values):
    return sorted(range(len(values)), key=lambda i: (-float(values[i]), i))[:M]


expected = {"m": M, "n": FEATURES, "U": {}}
for name, vals in (("mei", fv), ("l1", l1), ("l2", l2)):
    sets = [top(v) for v in vals]
    expected["U"][name] = len(set().union(*sets)) / (FEATURES * M)
    if name == "l1":
        expected["shared_by_all"] = sorted(set.intersection(*map(set, sets)))
with open(os.path.join(out, "expected.json"), "w") as fh:
    json.dump(expected, fh, indent=1)
