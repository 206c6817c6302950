"""An independent InceptionV1 in Lucid's layout (the PyTorch port of inception5h), written for the tests from
the description in docs/paper-code.md §3: explicit paddings, -inf padded max-pools, PyTorch LRN,
1008 logits, the parameter names of inception5h.pth, and plain ReLUs.

forward(x) returns a dict of every tensor the C++ model can tap that the tests compare.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

# name, stride-2 pool before it, 1x1, 3x3 bottleneck, 3x3, 5x5 bottleneck, 5x5, pool reduce
BLOCKS = [
    ("mixed3a", None, 64, 96, 128, 16, 32, 32),
    ("mixed3b", None, 128, 128, 192, 32, 96, 64),
    ("mixed4a", "maxpool4", 192, 96, 204, 16, 48, 64),
    ("mixed4b", None, 160, 112, 224, 24, 64, 64),
    ("mixed4c", None, 128, 128, 256, 24, 64, 64),
    ("mixed4d", None, 112, 144, 288, 32, 64, 64),
    ("mixed4e", None, 256, 160, 320, 32, 128, 128),
    ("mixed5a", "maxpool10", 256, 160, 320, 48, 128, 128),
    ("mixed5b", None, 384, 192, 384, 48, 128, 128),
]


def same_pool(x, stride):
    """3x3 max-pool of TensorFlow's SAME padding: -inf on the right/bottom at stride 2, all around at stride 1."""
    pad = (0, 1, 0, 1) if stride == 2 else (1, 1, 1, 1)
    return F.max_pool2d(F.pad(x, pad, value=float("-inf")), 3, stride)


class InceptionV1Ref(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv2d0_pre_relu_conv = nn.Conv2d(3, 64, 7, stride=2)
        self.conv2d1_pre_relu_conv = nn.Conv2d(64, 64, 1)
        self.conv2d2_pre_relu_conv = nn.Conv2d(64, 192, 3, padding=1)
        self.lrn = nn.LocalResponseNorm(9, alpha=9.99999974738e-05, beta=0.5, k=1.0)
        c_in = 192
        for name, _, c1, c3r, c3, c5r, c5, cp in BLOCKS:
            setattr(self, f"{name}_1x1_pre_relu_conv", nn.Conv2d(c_in, c1, 1))
            setattr(self, f"{name}_3x3_bottleneck_pre_relu_conv", nn.Conv2d(c_in, c3r, 1))
            setattr(self, f"{name}_3x3_pre_relu_conv", nn.Conv2d(c3r, c3, 3, padding=1))
            setattr(self, f"{name}_5x5_bottleneck_pre_relu_conv", nn.Conv2d(c_in, c5r, 1))
            setattr(self, f"{name}_5x5_pre_relu_conv", nn.Conv2d(c5r, c5, 5, padding=2))
            setattr(self, f"{name}_pool_reduce_pre_relu_conv", nn.Conv2d(c_in, cp, 1))
            c_in = c1 + c3 + c5 + cp
        self.softmax2_pre_activation_matmul = nn.Linear(c_in, 1008)

    def forward(self, x, head=True):
        t = {}
        t["conv2d0_pre_relu_conv"] = self.conv2d0_pre_relu_conv(F.pad(x, (2, 3, 2, 3)))
        t["conv2d0"] = F.relu(t["conv2d0_pre_relu_conv"])
        t["maxpool0"] = same_pool(t["conv2d0"], 2)
        t["localresponsenorm0"] = self.lrn(t["maxpool0"])
        t["conv2d1"] = F.relu(self.conv2d1_pre_relu_conv(t["localresponsenorm0"]))
        t["conv2d2"] = F.relu(self.conv2d2_pre_relu_conv(t["conv2d1"]))
        t["localresponsenorm1"] = self.lrn(t["conv2d2"])
        h = t["maxpool1"] = same_pool(t["localresponsenorm1"], 2)
        for name, pool_before, *_ in BLOCKS:
            if pool_before:
                h = t[pool_before] = same_pool(h, 2)
            conv = lambda branch, inp: getattr(self, f"{name}_{branch}_pre_relu_conv")(inp)
            b3 = t[f"{name}_3x3_bottleneck"] = F.relu(conv("3x3_bottleneck", h))
            b5 = F.relu(conv("5x5_bottleneck", h))
            pre = [conv("1x1", h), conv("3x3", b3), conv("5x5", b5), conv("pool_reduce", same_pool(h, 1))]
            t[f"{name}_pool_reduce_pre_relu_conv"] = pre[3]
            t[f"{name}_pre_relu"] = torch.cat(pre, 1)
            h = t[name] = torch.cat([F.relu(p) for p in pre], 1)
        if head:
            pooled = F.avg_pool2d(h, 7, stride=1).flatten(1)
            t["softmax2_pre_activation_matmul"] = self.softmax2_pre_activation_matmul(pooled)
        return t


def random_inception(seed):
    """He-initialised weights, so activations neither vanish nor explode through 60 layers; conv2d0 is scaled
    for inputs in Lucid's range (-117, 138) so that its outputs are O(10) and LRN has a visible effect."""
    torch.manual_seed(seed)
    model = InceptionV1Ref()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".weight"):
                fan_in = p[0].numel()
                p.normal_(0.0, (2.0 / fan_in) ** 0.5)
            else:
                p.normal_(0.0, 0.05)
        model.conv2d0_pre_relu_conv.weight.mul_(0.1)
    return model
