#!/usr/bin/python3
"""Regenerates the seed corpora of the fuzz targets under fuzz/corpus/<target>/ (small files, a few per format).

Run with Debian's /usr/bin/python3 (torch, numpy, PIL): /usr/bin/python3 fuzz/make_corpus.py [BUILD]
The run_store seed is a real run of `BUILD/tension attribute` (BUILD defaults to build/) when the program is built.
"""
import collections
import gzip
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(ROOT, "corpus")
FMNIST = "/usr/share/datasets/fashion-mnist"


def out(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def idx_slice(name, count):
    """The header and the first `count` items of one of Debian's Fashion-MNIST files."""
    with gzip.open(os.path.join(FMNIST, name), "rb") as f:
        raw = f.read()
    ndims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * d:8 + 4 * d], "big") for d in range(ndims)]
    item = int(np.prod(dims[1:])) if ndims > 1 else 1
    header = raw[:4] + count.to_bytes(4, "big") + raw[8:4 + 4 * ndims]
    return header + raw[4 + 4 * ndims:4 + 4 * ndims + count * item]


def idx_corpus():
    images, labels = idx_slice("t10k-images-idx3-ubyte.gz", 3), idx_slice("t10k-labels-idx1-ubyte.gz", 3)
    out("idx", "images3.idx", images)
    out("idx", "images3.idx.gz", gzip.compress(images, mtime=0))
    out("idx", "labels3.idx", labels)
    out("idx", "labels3.idx.gz", gzip.compress(labels, mtime=0))
    out("idx", "images1.idx", idx_slice("train-images-idx3-ubyte.gz", 1))
    out("idx", "empty-array.idx", b"\x00\x00\x08\x02\x00\x00\x00\x00\x00\x00\x00\x1c")


def encoded(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def image_corpus():
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), "RGB")
    grey = rgb.convert("L")
    jpegs = {
        "rgb.jpg": encoded(rgb, "JPEG", quality=80),
        "grey.jpg": encoded(grey, "JPEG"),
        "progressive.jpg": encoded(rgb, "JPEG", progressive=True),
        "cmyk.jpg": encoded(rgb.convert("CMYK"), "JPEG"),
        "subsampled.jpg": encoded(Image.fromarray(rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)), "JPEG",
                                  subsampling=2),
        "exif.jpg": encoded(rgb, "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"),
        "one-pixel.jpg": encoded(Image.new("RGB", (1, 1), (200, 10, 10)), "JPEG"),
    }
    jpegs["truncated.jpg"] = jpegs["rgb.jpg"][: len(jpegs["rgb.jpg"]) // 2]
    for name, data in jpegs.items():
        out("jpeg", name, data)
        out("image", name, data)
    rgba = rgb.copy()
    rgba.putalpha(128)
    deep = Image.fromarray((np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16))
    others = {
        "rgb.png": encoded(rgb, "PNG"),
        "rgba.png": encoded(rgba, "PNG"),
        "grey.png": encoded(grey, "PNG"),
        "grey16.png": encoded(deep.convert("I;16"), "PNG"),
        "palette.png": encoded(rgb.convert("P", palette=Image.ADAPTIVE, colors=4), "PNG"),
        "one-bit.png": encoded(grey.convert("1"), "PNG"),
        "one-pixel.png": encoded(Image.new("L", (1, 1), 7), "PNG"),
        "rgb.bmp": encoded(rgb, "BMP"),
        "rgb.tif": encoded(rgb, "TIFF"),
        "rgb.webp": encoded(rgb, "WEBP", lossless=True),
        "grey.pgm": encoded(grey, "PPM"),
    }
    for name, data in others.items():
        out("image", name, data)


def torch_bytes(obj, **kw):
    b = io.BytesIO()
    torch.save(obj, b, **kw)
    return b.getvalue()


def pth_corpus():
    torch.manual_seed(0)
    lin = torch.nn.Linear(2, 3)
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 2), torch.nn.BatchNorm2d(2))
    files = {
        "linear.pth": torch_bytes(lin.state_dict()),
        "conv-bn.pth": torch_bytes(conv.state_dict()),
        "plain-dict.pth": torch_bytes({"w": torch.ones(2, 3), "n": torch.arange(4)}),
        "dtypes.pth": torch_bytes({"h": torch.ones(2, dtype=torch.half), "b": torch.tensor([True, False]),
                                   "u": torch.arange(3, dtype=torch.uint8)}),
        "shared-storage.pth": torch_bytes(collections.OrderedDict(a=torch.arange(6.0)[1:4], b=torch.arange(6.0))),
        "transposed.pth": torch_bytes({"t": torch.ones(2, 3).t()}),
        "empty.pth": torch_bytes({"e": torch.zeros(0)}),
        "parameter.pth": torch_bytes({"p": torch.nn.Parameter(torch.ones(2))}),
        "not-a-dict.pth": torch_bytes([torch.ones(1)]),
        "legacy.pth": torch_bytes({"w": torch.ones(2)}, _use_new_zipfile_serialization=False),
    }
    for name, data in files.items():
        out("pth", name, data)
        # The unpickle target gets data.pkl alone; the harness gives it storages '0' (16 floats), '1' (4 int64).
        if name in ("linear.pth", "plain-dict.pth", "transposed.pth", "empty.pth", "parameter.pth", "not-a-dict.pth",
                    "shared-storage.pth"):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
                out("unpickle", name.replace(".pth", ".pkl"), z.read(pkl))


def npy_bytes(a, version=None):
    b = io.BytesIO()
    if version:
        np.lib.format.write_array(b, a, version=version)
    else:
        np.save(b, a)
    return b.getvalue()


def npy_corpus():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    files = {
        "f4.npy": npy_bytes(a),
        "f8.npy": npy_bytes(a.astype(np.float64)),
        "i4.npy": npy_bytes(a.astype(np.int32)),
        "i8-1d.npy": npy_bytes(np.arange(5, dtype=np.int64)),
        "u1.npy": npy_bytes(a.astype(np.uint8)),
        "bool.npy": npy_bytes(a > 5),
        "big-endian.npy": npy_bytes(a.astype(">f4")),
        "big-endian-empty.npy": npy_bytes(np.zeros((0, 3), ">f4")),
        "fortran.npy": npy_bytes(np.asfortranarray(a)),
        "scalar.npy": npy_bytes(np.float32(3)),
        "empty.npy": npy_bytes(np.zeros((0, 4), np.float32)),
        "version2.npy": npy_bytes(a, version=(2, 0)),
        "complex.npy": npy_bytes(a.astype(np.complex64)),
    }
    for name, data in files.items():
        out("npy", name, data)


def spec_corpus():
    features = ["mixed3b:379", "mixed3b:379@3,4", "conv1:0@0,0", "features.4:12", "fc1:@dirs.npy",
                "fc1:@dirs.npy#2", "relu3:@dirs.npy#1@2,3", "fc1:@missing.npy#0", "a:b:7", "x:99999999999999999999"]
    for i, s in enumerate(features):
        out("feature", f"spec{i}.txt", s.encode())
    taps = ["mixed3a", "features.4:in", "relu1:out", "conv1:in:in", ":in", "a:b", "mixed4a_pre_relu"]
    for i, s in enumerate(taps):
        out("tap", f"tap{i}.txt", s.encode())


SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE images (idx INTEGER PRIMARY KEY, id TEXT NOT NULL, label INTEGER NOT NULL, error TEXT);
CREATE TABLE attributions (
  image INTEGER NOT NULL, feature INTEGER NOT NULL, layer INTEGER NOT NULL,
  fv REAL, e REAL, e_pos REAL, e_neg REAL, l1 REAL, l2 REAL, l21 REAL,
  phi_pos BLOB, phi_neg BLOB, channels BLOB, s BLOB,
  PRIMARY KEY (image, feature, layer));
"""


def run_store_corpus(build):
    work = tempfile.mkdtemp()
    try:
        # A store written by sqlite3 in RunStore's schema: its rows and BLOBs (one odd-sized) at the smallest.
        path = os.path.join(work, "small.sqlite")
        db = sqlite3.connect(path)
        db.executescript(SCHEMA)
        db.execute("INSERT INTO meta VALUES ('config', ?)", ('{"model":"fmnist-cnn","features":["relu3:1"]}',))
        db.execute("INSERT INTO meta VALUES ('layout', ?)", ('{"footprints":[[1,2]],"nested":[[[]]]}',))
        db.execute("INSERT INTO images VALUES (0, 'a.png', 1, NULL), (1, 'b.png', -1, 'cannot decode')")
        db.execute("INSERT INTO attributions VALUES (0, 0, 0, 1.5, 1.0, 2.0, -1.0, 3.0, 1.2, 0.5, ?, ?, NULL, ?)",
                   (np.ones(4, np.float32).tobytes(), np.zeros(4, np.float32).tobytes(), b"\x01\x02\x03"))
        db.commit()
        db.execute("PRAGMA page_size=512")
        db.execute("VACUUM")
        db.close()
        with open(path, "rb") as f:
            out("run_store", "small.sqlite", f.read())
        tension = os.path.join(build, "tension")
        if os.path.exists(tension):
            run = os.path.join(work, "run")
            env = dict(os.environ, TENSION_CACHE_DIR=os.path.join(work, "cache"))
            subprocess.run([tension, "attribute", "fmnist-cnn", "fashion-mnist:test", "-f", "fc1:3", "-l", "relu3",
                            "--limit", "2", "--no-verify", "--out", run], check=True, env=env,
                           stdout=subprocess.DEVNULL)
            # VACUUM into 512-byte pages: the same content in a few KB.
            db = sqlite3.connect(os.path.join(run, "store.sqlite"))
            db.execute("PRAGMA journal_mode=DELETE")
            db.execute("PRAGMA page_size=512")
            db.execute("VACUUM")
            db.close()
            with open(os.path.join(run, "store.sqlite"), "rb") as f:
                out("run_store", "attribute-limit2.sqlite", f.read())
    finally:
        shutil.rmtree(work)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "build")
    idx_corpus()
    image_corpus()
    pth_corpus()
    npy_corpus()
    spec_corpus()
    run_store_corpus(build)


if __name__ == "__main__":
    main()
