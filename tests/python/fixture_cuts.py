"""Two small TorchScript models whose cut layers are known by construction (issue 13: completeness is measured
only where every path from the input to the feature crosses the layer). Usage: fixture_cuts.py OUTDIR"""
import os
import sys

import torch
import torch.nn as nn

out = os.path.join(sys.argv[1], "cuts")
os.makedirs(out, exist_ok=True)
torch.manual_seed(5)


class Block(nn.Module):
    """A residual block: relu1 lies on one of two paths (not a cut); the block's output, relu2, is a cut."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.relu2 = nn.ReLU(inplace=True)  # in place, as in torchvision's ResNets

    def forward(self, x):
        return self.relu2(self.conv2(self.relu1(self.conv1(x))) + x)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 8, 3, padding=1)
        self.relu0 = nn.ReLU(inplace=True)
        self.block = Block()
        self.conv3 = nn.Conv2d(8, 4, 3, padding=1)
        self.relu3 = nn.ReLU()
        self.fc = nn.Linear(4 * 16 * 16, 5)

    def forward(self, x):
        x = self.block(self.relu0(self.conv0(x)))
        return self.fc(torch.flatten(self.relu3(self.conv3(x)), 1))


class Branches(nn.Module):
    """Parallel branches concatenated (an inception block): the block's output is a cut made of ReLU outputs;
    the ReLUs inside the branches are not cuts."""

    def __init__(self):
        super().__init__()
        self.conv_a = nn.Conv2d(6, 4, 1)
        self.relu_a = nn.ReLU()
        self.conv_bb = nn.Conv2d(6, 3, 1)
        self.relu_bb = nn.ReLU()
        self.conv_b = nn.Conv2d(3, 5, 3, padding=1)
        self.relu_b = nn.ReLU()

    def forward(self, x):
        return torch.cat([self.relu_a(self.conv_a(x)), self.relu_b(self.conv_b(self.relu_bb(self.conv_bb(x))))], 1)


class Parallel(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 6, 3, padding=1)
        self.stem_relu = nn.ReLU()
        self.block = Branches()
        self.conv_out = nn.Conv2d(9, 6, 3, padding=1)
        self.relu_out = nn.ReLU()
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        x = self.relu_out(self.conv_out(self.block(self.stem_relu(self.stem(x)))))
        return self.fc(x.mean(dim=(2, 3)))


for name, model in [("residual", Residual()), ("parallel", Parallel())]:
    model.eval()
    torch.jit.script(model).save(os.path.join(out, name + "_scripted.pt"))
    torch.jit.trace(model, torch.rand(1, 3, 16, 16)).save(os.path.join(out, name + "_traced.pt"))
