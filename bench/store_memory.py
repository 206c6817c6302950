"""Peak memory of reading a large run store (issue 18 §5): stores of 10k, 100k and 1M attribution rows written by
a generator (20 features x 1 layer, 16-float phi maps per row, as a 4x4 footprint gives), then the peak RSS of
`tension export --csv` and `--npy` on each, from /usr/bin/time. Usage: store_memory.py BUILD [ROWS...]"""
import json
import os
import random
import sqlite3
import struct
import subprocess
import sys
import tempfile

build = sys.argv[1]
sizes = [int(x) for x in sys.argv[2:]] or [10_000, 100_000, 1_000_000]
features = 20
schema = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE images (idx INTEGER PRIMARY KEY, id TEXT NOT NULL, label INTEGER NOT NULL, error TEXT);
CREATE TABLE attributions (image INTEGER NOT NULL, feature INTEGER NOT NULL, layer INTEGER NOT NULL,
  fv REAL, e REAL, e_pos REAL, e_neg REAL, l1 REAL, l2 REAL, l21 REAL,
  phi_pos BLOB, phi_neg BLOB, channels BLOB, s BLOB, PRIMARY KEY (image, feature, layer));
"""


def make_store(run, rows):
    os.makedirs(run, exist_ok=True)
    db = sqlite3.connect(os.path.join(run, "store.sqlite"))
    db.executescript(schema)
    config = {"features": [f"conv3:{k}" for k in range(features)], "layers": ["relu2"], "data": {"spec": "generated"}}
    db.execute("INSERT INTO meta VALUES ('config', ?)", (json.dumps(config),))
    db.execute("INSERT INTO meta VALUES ('schema', '1')")
    rng = random.Random(0)
    blob = struct.pack("<16f", *[rng.random() for _ in range(16)])
    images = rows // features
    db.executemany("INSERT INTO images VALUES (?, ?, 0, NULL)", ((i, f"img{i}.png") for i in range(images)))
    db.executemany("INSERT INTO attributions VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                   ((i, k, rng.random(), 1.0, 0.5, 0.5, 2.0, 1.0, 1.0, blob, blob)
                    for i in range(images) for k in range(features)))
    db.commit()
    db.close()


def peak_rss_mb(args):
    r = subprocess.run(["/usr/bin/time", "-f", "%M", os.path.join(build, "tension")] + args,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return int(r.stderr.strip().splitlines()[-1]) / 1024


with tempfile.TemporaryDirectory() as tmp:
    print("| rows | images | export --csv, peak RSS (MB) | export --npy, peak RSS (MB) |")
    print("|---|---|---|---|")
    for rows in sizes:
        run = os.path.join(tmp, f"run{rows}")
        make_store(run, rows)
        csv = peak_rss_mb(["export", run, "--csv", os.path.join(tmp, "out.csv")])
        npy = peak_rss_mb(["export", run, "--npy", os.path.join(tmp, "npy")])
        print(f"| {rows:,} | {rows // features:,} | {csv:.0f} | {npy:.0f} |", flush=True)
