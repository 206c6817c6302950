"""Ground truth for the selection rules: a hand-built network whose target unit is excited by pattern A (a red
square) and inhibited by pattern B (a blue square), and synthetic images built from A and B.
Writes OUTDIR/selection/gt.pt (TorchScript, 3x15x15 input in [0, 1]) and OUTDIR/selection/images/*.png:
  a_*      A alone            -> MEI
  b_*      B alone            -> MII
  same_*   A and B at one place (a magenta square)   -> channel
  apart_*  A and B at different places               -> spatial
  blank_*  nothing                                   -> zero
and OUTDIR/selection/scale/*.png, for the overlay scale: strong_* (A at full intensity) and faint_* (A at a tenth:
the attributions are a tenth, the network being linear in A's intensity).
Usage: fixture_selection.py OUTDIR"""
import os
import random
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

out = os.path.join(sys.argv[1], "selection")
img_dir = os.path.join(out, "images")
os.makedirs(img_dir, exist_ok=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 2, 3, padding=1, bias=False)   # channel 0 sees red, channel 1 sees blue
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(2, 1, 15, padding=7, bias=False)  # +red, -blue, over the whole image

    def forward(self, x):
        return self.conv2(self.relu1(self.conv1(x)))


net = Net().eval()
with torch.no_grad():
    net.conv1.weight.zero_()
    net.conv1.weight[0, 0] = 1.0 / 9
    net.conv1.weight[1, 2] = 1.0 / 9
    net.conv2.weight[0, 0] = 1.0 / 9
    net.conv2.weight[0, 1] = -1.0 / 9
for p in net.parameters():
    p.requires_grad_(False)
torch.jit.trace(net, torch.zeros(1, 3, 15, 15)).save(os.path.join(out, "gt.pt"))

rng = random.Random(5)


def square(img, r, c, colour):
    img[r:r + 3, c:c + 3] = np.maximum(img[r:r + 3, c:c + 3], colour)


RED, BLUE = np.array([255, 0, 0]), np.array([0, 0, 255])
for i in range(6):
    images = {}
    for name in ("a", "b", "same", "apart", "blank"):
        images[name] = np.zeros((15, 15, 3), np.uint8)
    r, c = rng.randint(2, 10), rng.randint(2, 10)
    square(images["a"], r, c, RED)
    square(images["b"], r, c, BLUE)
    square(images["same"], r, c, RED)
    square(images["same"], r, c, BLUE)
    # Apart: opposite corners, so the two squares' responses do not meet.
    square(images["apart"], rng.randint(0, 2), rng.randint(0, 2), RED)
    square(images["apart"], rng.randint(10, 12), rng.randint(10, 12), BLUE)
    for name, img in images.items():
        Image.fromarray(img).save(os.path.join(img_dir, f"{name}_{i}.png"))

scale_dir = os.path.join(out, "scale")
os.makedirs(scale_dir, exist_ok=True)
for i in range(6):
    r, c = rng.randint(2, 10), rng.randint(2, 10)
    for name, level in (("strong", 250), ("faint", 25)):
        img = np.zeros((15, 15, 3), np.uint8)
        square(img, r, c, np.array([level, 0, 0]))
        Image.fromarray(img).save(os.path.join(scale_dir, f"{name}_{i}.png"))
