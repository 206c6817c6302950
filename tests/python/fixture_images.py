#!/usr/bin/python3
"""Test inputs for the data stage, and the results the C++ must reproduce, computed independently with
PIL, numpy and torchvision.

Usage: /usr/bin/python3 fixture_images.py OUTDIR      (writes OUTDIR/data/)

  data/folder/       an image folder: class sub-folders cat, dog, emu (one nested deeper), a root-level file,
                     a hidden folder and a text file to skip, every format the decoder reads, a JPEG with EXIF
                     orientation 6, a corrupt JPEG (random bytes) and a truncated JPEG
  data/listing.txt   "relative path<TAB>label" of the folder's images, sorted; then "hash<TAB>SHA-256" of the
                     "id<TAB>label<LF>" lines (id = absolute OUTDIR/data/folder/relative path)
  data/idx/          IDX files: gzip and raw with labels, a 4-D colour one, one without labels, a truncated
                     payload, a truncated gzip stream, a bad magic number
  data/expected.pt   torch.save'd dict of tensors:
                       decoded/REL                PIL's decode of folder/REL as float [C, H, W] in [0, 1]
                       pre/CASE/{in,out,spec,mean,std}
                                                  preprocess cases: spec = [channels, height, width, lo, hi]
                       idx/{images,labels,colour_images,colour_labels}
                       fmnist/{images,labels}     first 3 test images and all test labels (when installed)
"""
import gzip
import hashlib
import io
import os
import shutil
import sys

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
rng = np.random.default_rng(20261125)


def smooth_rgb(h, w):
    """A photo-like uint8 image (smooth gradients plus mild noise), so that JPEG artefacts stay small."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = [128 + 90 * np.sin(x / 5.0 + k) * np.cos(y / 7.0 - k) for k in range(3)]
    img = np.stack(planes, axis=2) + rng.normal(0, 6, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def write_folder(root):
    def path(rel):
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        return os.path.join(root, rel)

    Image.fromarray(smooth_rgb(48, 64)).save(path("cat/a_rgb.jpg"), quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display; PIL (and so the C++) ignores it
    Image.fromarray(smooth_rgb(30, 40)).save(path("cat/b_exif6.JPG"), quality=85, exif=exif.tobytes())
    Image.fromarray(smooth_rgb(37, 50)).save(path("cat/c_progressive.jpeg"), quality=80, progressive=True)
    Image.fromarray(smooth_rgb(50, 33)[:, :, 1]).save(path("cat/sub/d_grey.png"))
    rgba = np.concatenate([smooth_rgb(45, 45), rng.integers(0, 256, (45, 45, 1), dtype=np.uint8)], axis=2)
    Image.fromarray(rgba, "RGBA").save(path("dog/e_rgba.png"))
    grey16 = rng.integers(0, 65536, (20, 30), dtype=np.uint16)
    Image.fromarray(grey16).save(path("dog/f_grey16.png"))
    Image.fromarray(smooth_rgb(24, 24)).convert("P", palette=Image.ADAPTIVE, colors=32).save(path("dog/g_palette.png"))
    Image.fromarray(smooth_rgb(17, 21)).save(path("dog/h_rgb.bmp"))
    Image.fromarray(smooth_rgb(23, 19)).save(path("dog/i_rgb.TIFF"))
    with open(path("dog/notes.txt"), "w") as f:
        f.write("not an image\n")
    with open(path("emu/j_corrupt.jpg"), "wb") as f:
        f.write(rng.integers(0, 256, 3000, dtype=np.uint8).tobytes())
    jpeg = io.BytesIO()
    Image.fromarray(smooth_rgb(60, 80)).save(jpeg, format="JPEG", quality=90)
    with open(path("emu/k_truncated.jpg"), "wb") as f:
        f.write(jpeg.getvalue()[: len(jpeg.getvalue()) * 6 // 10])
    Image.fromarray(smooth_rgb(16, 16)).save(path("root.png"))
    Image.fromarray(smooth_rgb(8, 8)).save(path(".hidden/skipped.png"))
    return grey16


def listing(root):
    """Sorted relative paths of the images and their labels, like torchvision's ImageFolder (hidden entries skipped)."""
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    rels = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and os.path.splitext(name)[1].lower() in EXTENSIONS:
                rels.append(os.path.relpath(os.path.join(dirpath, name), root))
    rels.sort()
    return [(rel, classes.index(rel.split("/")[0]) if "/" in rel else -1) for rel in rels]


def pil_decode(path, grey16):
    img = Image.open(path)
    if img.mode in ("I", "I;16"):  # PIL opens 16-bit grey PNGs as 32-bit "I"
        assert np.array_equal(np.array(img), grey16)
        return torch.from_numpy(np.array(img).astype(np.float32))[None] / 65535
    if img.mode in ("L", "LA"):
        return TF.to_tensor(img.getchannel(0))
    return TF.to_tensor(img.convert("RGB"))  # drops alpha, expands palettes


def torchvision_preprocess(x, channels, height, width, lo, hi, mean, std):
    if channels == 1 and x.shape[0] == 3:
        x = (x[0] * 0.299 + x[1] * 0.587 + x[2] * 0.114)[None]  # PIL's "L" weights
    side = min(x.shape[1:])
    x = TF.center_crop(x, [side, side])
    x = TF.resize(x, [height, width], antialias=True)
    if channels == 3 and x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    x = x * (hi - lo) + lo
    if mean:
        x = TF.normalize(x, mean, std)
    return x.contiguous()


def preprocess_cases(expected):
    gen = torch.Generator().manual_seed(7)
    imagenet = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    cases = {  # name: input shape, channels, height, width, lo, hi, mean, std
        "downscale": ((3, 48, 64), 3, 32, 32, 0.0, 1.0, [], []),
        "upscale": ((3, 20, 27), 3, 56, 56, 0.0, 1.0, [], []),
        "crop_offset_half_to_even_0": ((3, 40, 39), 3, 16, 16, 0.0, 1.0, [], []),
        "crop_offset_half_to_even_2": ((3, 59, 64), 3, 59, 59, 0.0, 1.0, [], []),
        "grey_to_rgb": ((1, 50, 33), 3, 24, 24, 0.0, 1.0, [], []),
        "rgb_to_grey": ((3, 48, 64), 1, 20, 20, 0.0, 1.0, [], []),
        "range": ((3, 48, 64), 3, 28, 28, -117.0, 138.0, [], []),
        "mean_std": ((3, 48, 64), 3, 30, 40, 0.0, 1.0, *imagenet),
        "range_mean_std": ((3, 33, 31), 3, 12, 12, 0.0, 255.0, [120.0, 115.0, 100.0], [60.0, 58.0, 57.0]),
    }
    for name, (shape, c, h, w, lo, hi, mean, std) in cases.items():
        x = torch.rand(shape, generator=gen)
        expected[f"pre/{name}/in"] = x
        expected[f"pre/{name}/out"] = torchvision_preprocess(x, c, h, w, lo, hi, mean, std)
        expected[f"pre/{name}/spec"] = torch.tensor([c, h, w, lo, hi], dtype=torch.float64)
        expected[f"pre/{name}/mean"] = torch.tensor(mean, dtype=torch.float64)
        expected[f"pre/{name}/std"] = torch.tensor(std, dtype=torch.float64)


def idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(root, expected):
    os.makedirs(root, exist_ok=True)

    def put(name, data, zipped):
        with (gzip.open if zipped else open)(os.path.join(root, name), "wb") as f:
            f.write(data)

    images = rng.integers(0, 256, (7, 5, 6), dtype=np.uint8)
    labels = np.array([3, 0, 1, 3, 2, 0, 1], dtype=np.uint8)
    for prefix, zipped in (("small", True), ("raw", False)):
        suffix = ".gz" if zipped else ""
        put(f"{prefix}-images-idx3-ubyte{suffix}", idx_bytes(images), zipped)
        put(f"{prefix}-labels-idx1-ubyte{suffix}", idx_bytes(labels), zipped)
    colour = rng.integers(0, 256, (4, 3, 5, 3), dtype=np.uint8)
    colour_labels = np.array([1, 0, 1, 1], dtype=np.uint8)
    put("colour-images-idx4-ubyte.gz", idx_bytes(colour), True)
    put("colour-labels-idx1-ubyte.gz", idx_bytes(colour_labels), True)
    put("nolabels-images-idx3-ubyte", idx_bytes(images[:3]), False)
    put("truncated-images-idx3-ubyte.gz", idx_bytes(images)[:116], True)  # 226 bytes announced
    whole = gzip.compress(idx_bytes(rng.integers(0, 256, (50, 20, 20), dtype=np.uint8)))
    with open(os.path.join(root, "truncgz-images-idx3-ubyte.gz"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    put("badmagic-images-idx3-ubyte", b"\x12\x34" + idx_bytes(images)[2:], False)
    expected["idx/images"] = torch.from_numpy(images)
    expected["idx/labels"] = torch.from_numpy(labels.astype(np.int64))
    expected["idx/colour_images"] = torch.from_numpy(colour)
    expected["idx/colour_labels"] = torch.from_numpy(colour_labels.astype(np.int64))


def fashion_mnist(expected):
    images_path = os.path.join(FASHION_MNIST, "t10k-images-idx3-ubyte.gz")
    if not os.path.exists(images_path):
        return
    with gzip.open(images_path) as f:
        images = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(FASHION_MNIST, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    expected["fmnist/images"] = torch.from_numpy(images[:3].copy())
    expected["fmnist/labels"] = torch.from_numpy(labels.astype(np.int64))


def main():
    out = os.path.join(sys.argv[1], "data")
    shutil.rmtree(out, ignore_errors=True)
    folder = os.path.join(os.path.abspath(out), "folder")
    grey16 = write_folder(folder)
    expected = {}
    items = listing(folder)
    digest = hashlib.sha256()
    with open(os.path.join(out, "listing.txt"), "w") as f:
        for rel, label in items:
            f.write(f"{rel}\t{label}\n")
            digest.update(f"{os.path.join(folder, rel)}\t{label}\n".encode())
            if "corrupt" not in rel and "truncated" not in rel:
                expected[f"decoded/{rel}"] = pil_decode(os.path.join(folder, rel), grey16)
        f.write(f"hash\t{digest.hexdigest()}\n")
    preprocess_cases(expected)
    write_idx(os.path.join(out, "idx"), expected)
    fashion_mnist(expected)
    torch.save({k: v.contiguous() for k, v in expected.items()}, os.path.join(out, "expected.pt"))


if __name__ == "__main__":
    main()
