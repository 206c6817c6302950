"""A hand-built network and synthetic images for the trials of the human experiment (paper App B).
Usage: fixture_trials.py OUTDIR

trials/net.pt: conv1 (1 -> 4 channels, 3x3, padding 1) -> relu1 -> conv2 (4 -> 6, 3x3, padding 1) -> relu2, on
12x12 grey images, traced with Debian's python3-torch. conv1's filters are an on-centre spot, its negative, and
horizontal and vertical edges, so that the hidden vectors point in a few distinct directions; conv2 mixes them
with seeded random weights.
trials/shapes-images-idx3-ubyte (+ labels): 160 images: a bright or dark square, a bar or a blob at a random
place on a random background, plus noise, so that crops differ in kind and strength.
tests/python/check_trials.py recomputes every activation of a bundle built from these, independently of
tension."""
import os
import struct
import sys

import torch
import torch.nn as nn

out = os.path.join(sys.argv[1], "trials")
os.makedirs(out, exist_ok=True)
S, N = 12, 160


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.relu2 = nn.ReLU()

    def forward(self, x):
        return self.relu2(self.conv2(self.relu1(self.conv1(x))))


torch.manual_seed(11)
net = Net().eval()
with torch.no_grad():
    spot = torch.tensor([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]]) / 8
    edge = torch.tensor([[1.0, 1, 1], [0, 0, 0], [-1, -1, -1]]) / 3
    net.conv1.weight.copy_(torch.stack([spot, -spot, edge, edge.t()]).unsqueeze(1))
    net.conv1.bias.copy_(torch.tensor([0.05, -0.05, 0.0, 0.1]))
torch.jit.trace(net, torch.rand(1, 1, S, S)).save(os.path.join(out, "net.pt"))

gen = torch.Generator().manual_seed(5)
images = []
for i in range(N):
    img = torch.full((S, S), float(torch.rand(1, generator=gen)) * 0.6)
    r, c = torch.randint(0, S - 3, (2,), generator=gen).tolist()
    kind = i % 4
    level = float(torch.rand(1, generator=gen))
    if kind == 0:
        img[r:r + 3, c:c + 3] = level
    elif kind == 1:
        img[r, :] = level
    elif kind == 2:
        img[:, c] = level
    else:
        img[r:r + 2, c:c + 2] = 1 - level
    img += torch.rand(S, S, generator=gen) * 0.1
    images.append(img.clamp(0, 1))
pixels = torch.stack(images).mul(255).round().to(torch.uint8)
with open(os.path.join(out, "shapes-images-idx3-ubyte"), "wb") as f:
    f.write(struct.pack(">IIII", 0x803, N, S, S))
    f.write(pixels.numpy().tobytes())
with open(os.path.join(out, "shapes-labels-idx1-ubyte"), "wb") as f:
    f.write(struct.pack(">II", 0x801, N))
    f.write(bytes(N))
