"""Models whose output is not finite, for the bad-input checks of a dataset pass. Usage: fixture_bad_models.py OUTDIR

bad_models/nan.pt: conv1 -> relu1 -> conv2 on 1x8x8 images, its input multiplied by NaN: every activation is NaN
for every image. bad_models/some_nan.pt: the same network, NaN only for images whose mean pixel is above 0.5
(finite otherwise)."""
import os
import sys

import torch
import torch.nn as nn

out = os.path.join(sys.argv[1], "bad_models")
os.makedirs(out, exist_ok=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 3, 3, padding=1)

    def body(self, x):
        return self.conv2(self.relu1(self.conv1(x)))


class AllNan(Net):
    def forward(self, x):
        return self.body(x * float("nan"))


class SomeNan(Net):
    def forward(self, x):
        # The whole image decides, so that the features' receptive field is the whole input (no input crop).
        bright = x.mean(dim=(1, 2, 3), keepdim=True) > 0.5
        return self.body(torch.where(bright, x * float("nan"), x))


for name, cls in (("nan", AllNan), ("some_nan", SomeNan)):
    torch.manual_seed(0)
    torch.jit.trace(cls().eval(), torch.rand(2, 1, 8, 8)).save(os.path.join(out, name + ".pt"))
