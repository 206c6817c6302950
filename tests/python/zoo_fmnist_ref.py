"""A Python mirror of the C++ fmnist-cnn / fmnist-cnn-bn (same layer names, same parameter keys)."""
import torch.nn as nn


class FmnistCnnRef(nn.Module):
    def __init__(self, bn):
        super().__init__()
        self.order = []

        def add(name, module):
            setattr(self, name, module)
            self.order.append(name)

        add("conv1", nn.Conv2d(1, 32, 3, padding=1))
        if bn:
            add("bn1", nn.BatchNorm2d(32))
        add("relu1", nn.ReLU())
        add("conv2", nn.Conv2d(32, 32, 3, padding=1))
        if bn:
            add("bn2", nn.BatchNorm2d(32))
        add("relu2", nn.ReLU())
        add("pool1", nn.MaxPool2d(2))
        add("conv3", nn.Conv2d(32, 64, 3, padding=1))
        if bn:
            add("bn3", nn.BatchNorm2d(64))
        add("relu3", nn.ReLU())
        add("pool2", nn.MaxPool2d(2))
        add("flatten", nn.Flatten())
        add("fc1", nn.Linear(64 * 7 * 7, 128))
        if bn:
            add("bn4", nn.BatchNorm1d(128))
        add("relu4", nn.ReLU())
        add("fc2", nn.Linear(128, 10))

    def taps(self, x):
        """Every layer's output by name; the last, fc2, is the logits."""
        out = {}
        for name in self.order:
            x = out[name] = getattr(self, name)(x)
        return out
