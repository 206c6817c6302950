"""The bad-input corpus (issue 18 §3): files that are broken in the ways files from strangers are, written fresh for
every test run. Usage: fixture_bad_inputs.py OUTDIR. tests/test_bad_inputs.cpp runs `tension` on each and checks
the exit status and the words of the error.

bad_inputs/images/: a folder pass over good and bad images: good-*.png (readable), 1x1.png, grey.png, rgb.png,
16bit.png, palette.png, cmyk.jpg (readable, converted), and empty.png, truncated.png, truncated.jpg, text.jpg,
bomb.png (a 20000 x 20000 header), which must be recorded as unreadable while the rest of the pass goes on.
bad_inputs/idx/: IDX files with a wrong magic, dimensions that overflow, dimensions larger than the file, labels
that do not match the images. bad_inputs/models/: an empty .pt, TorchScript models taking two inputs or returning a
tuple, state dicts for fmnist-cnn with a wrong key or shape. bad_inputs/npy/: a direction matrix of the wrong
width. bad_inputs/runs/: a folder that is not a run, a store of another schema, a truncated store, a corrupt one."""
import io
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

out = os.path.join(sys.argv[1], "bad_inputs")
for sub in ("images", "idx", "models", "npy", "runs"):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
rng = np.random.default_rng(7)


def path(*p):
    return os.path.join(out, *p)


def png_bytes(img):
    b = io.BytesIO()
    img.save(b, format="PNG")
    return b.getvalue()


# Images: readable ones of every kind, and broken ones.
for i in range(3):
    Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)).save(path("images", f"good-{i}.png"))
Image.fromarray(np.full((1, 1), 200, dtype=np.uint8)).save(path("images", "1x1.png"))
Image.fromarray(rng.integers(0, 256, (20, 30), dtype=np.uint8)).save(path("images", "grey.png"))
Image.fromarray(rng.integers(0, 256, (28, 28, 3), dtype=np.uint8)).save(path("images", "rgb.png"))
Image.fromarray(rng.integers(0, 65536, (28, 28), dtype=np.uint16)).save(path("images", "16bit.png"))
Image.fromarray(rng.integers(0, 256, (28, 28, 3), dtype=np.uint8)).convert("P").save(path("images", "palette.png"))
Image.fromarray(rng.integers(0, 256, (28, 28, 4), dtype=np.uint8), mode="CMYK").save(path("images", "cmyk.jpg"))
open(path("images", "empty.png"), "wb").close()
good = png_bytes(Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8)))
open(path("images", "truncated.png"), "wb").write(good[: len(good) // 2])
jpg = io.BytesIO()
Image.fromarray(rng.integers(0, 256, (28, 28, 3), dtype=np.uint8)).save(jpg, format="JPEG")
open(path("images", "truncated.jpg"), "wb").write(jpg.getvalue()[: len(jpg.getvalue()) // 2])
open(path("images", "text.jpg"), "w").write("this is not a picture\n")
# A valid PNG signature and IHDR declaring 20000 x 20000 grey pixels, with one tiny IDAT: 400 M pixels on the word
# of a header.
import zlib


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0))
bomb += chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b"")
open(path("images", "bomb.png"), "wb").write(bomb)


# IDX: a header and the bytes it promises, or not.
def idx_images(name, magic, dims, payload):
    with open(path("idx", name), "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload)


pixels = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8).tobytes()
idx_images("magic-images-idx3-ubyte", 0x0803FFFF, (5, 28, 28), pixels)
idx_images("overflow-images-idx3-ubyte", 0x803, (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), pixels)
idx_images("short-images-idx3-ubyte", 0x803, (50, 28, 28), pixels)
idx_images("mismatch-images-idx3-ubyte", 0x803, (5, 28, 28), pixels)
with open(path("idx", "mismatch-labels-idx1-ubyte"), "wb") as f:
    f.write(struct.pack(">II", 0x801, 7) + bytes(7))

# Models.
open(path("models", "empty.pt"), "wb").close()


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x, y):
        return self.conv(x) + self.conv(y)


class Pair(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.relu = nn.ReLU()

    def forward(self, x):
        h = self.relu(self.conv(x))
        return h, h.sum()


x = torch.rand(1, 1, 28, 28)
torch.jit.trace(TwoInputs(), (x, x)).save(path("models", "two_inputs.pt"))
torch.jit.trace(Pair(), x).save(path("models", "tuple.pt"))
# A traced model that only runs at 28 x 28 (a Linear after the convs): run at another size it fails.
fixed = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 26 * 26, 3))
torch.jit.trace(fixed, x).save(path("models", "fixed28.pt"))
# fmnist-cnn state dicts: one key renamed, one shape wrong (tests read the real key names from the model).
weights = torch.load(os.path.join(os.path.dirname(__file__), "..", "..", "models", "fmnist-cnn.pt"))
renamed = {("conv2.kernel" if k == "conv2.weight" else k): v for k, v in weights.items()}
torch.save(renamed, path("models", "renamed_key.pth"))
reshaped = dict(weights)
reshaped["conv3.weight"] = torch.zeros(64, 32, 5, 5)
torch.save(reshaped, path("models", "wrong_shape.pth"))

# A direction matrix for conv3 (64 channels) that is 63 wide.
np.save(path("npy", "narrow.npy"), rng.standard_normal((2, 63)).astype(np.float32))

# Runs: a folder that is not one; the others are made by the test from a real run (it needs the binary).
os.makedirs(path("runs", "not-a-run"), exist_ok=True)
open(path("runs", "not-a-run", "notes.txt"), "w").write("hello\n")
