"""A model whose effective receptive field is known in closed form (issue 13 part 3): four 3x7 convolutions with
constant weights and no non-linearity. The gradient of a unit at the input does not depend on the input, and its
magnitude is the separable profile (box3 * box3 * box3 * box3) x (box7 * box7 * box7 * box7). The expected crops
are computed here from that profile with numpy, following the paper code's recipe (sum of |gradient|, Gaussian
blur with sd 5 px at 224, min-max, threshold, square). Usage: fixture_effective_field.py OUTDIR"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

out = os.path.join(sys.argv[1], "effective_field")
os.makedirs(out, exist_ok=True)
SIZE, ROW, COL = 64, 32, 32


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        for i in range(1, 5):
            conv = nn.Conv2d(3, 3, (3, 7), padding=(1, 3), bias=False)
            nn.init.constant_(conv.weight, 1.0 / 63)
            setattr(self, "conv%d" % i, conv)

    def forward(self, x):
        return self.conv4(self.conv3(self.conv2(self.conv1(x))))


model = Stack().eval()
torch.jit.script(model).save(os.path.join(out, "stack_scripted.pt"))


def profile(k, taps=4):
    p = np.ones(1)
    for _ in range(taps):
        p = np.convolve(p, np.ones(k))
    return p


# |gradient| of the unit at (ROW, COL), summed over colours: the outer product of the two profiles, centred there.
grad = np.zeros((SIZE, SIZE))
py, px = profile(3), profile(7)
grad[ROW - len(py) // 2: ROW + len(py) // 2 + 1, COL - len(px) // 2: COL + len(px) // 2 + 1] = np.outer(py, px)

# The same from autograd, as a check of the closed form.
x = torch.rand(1, 3, SIZE, SIZE, requires_grad=True)
model(x)[0, :, ROW, COL].sum().backward()
autograd = x.grad.abs().sum(dim=(0, 1)).numpy()
assert np.allclose(autograd / autograd.max(), grad / grad.max(), atol=1e-5), "closed form != autograd"


def blur(m, sigma):
    r = int(math.ceil(4 * sigma))
    t = np.arange(-r, r + 1)
    k = np.exp(-t * t / (2 * sigma * sigma))
    k /= k.sum()
    padded = np.pad(m, ((0, 0), (r, r)), mode="reflect")
    m = np.stack([np.convolve(row, k, mode="valid") for row in padded])
    padded = np.pad(m, ((r, r), (0, 0)), mode="reflect")
    return np.stack([np.convolve(col, k, mode="valid") for col in padded.T]).T


def square(top, left, bottom, right, h, w):
    side = min(max(bottom - top, right - left), h, w)

    def grow(lo, hi, limit):
        extra = side - (hi - lo)
        lo -= extra // 2
        hi += extra - extra // 2
        if lo < 0:
            hi, lo = hi - lo, 0
        if hi > limit:
            lo, hi = lo - (hi - limit), limit
        return max(lo, 0), hi

    top, bottom = grow(top, bottom, h)
    left, right = grow(left, right, w)
    return [top, left, bottom, right]


def box_above(m, threshold):
    rows = np.nonzero((m > threshold).any(axis=1))[0]
    cols = np.nonzero((m > threshold).any(axis=0))[0]
    return [int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1]


m = blur(grad, 5.0 * SIZE / 224)
m = (m - m.min()) / (m.max() - m.min())
expected = {"size": SIZE, "row": ROW, "col": COL, "support": box_above(grad, 0), "map": m.tolist()}
support = box_above(grad, 0)
for threshold in (0.05, 0.2):
    t, l, b, r = box_above(m, threshold)
    # Kept inside the gradient's support, then made square.
    t, l, b, r = max(t, support[0]), max(l, support[1]), min(b, support[2]), min(r, support[3])
    expected["box_%g" % threshold] = square(t, l, b, r, SIZE, SIZE)
with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(expected, f)
