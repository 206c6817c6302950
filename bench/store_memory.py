"""Peak memory of reading a large run store (issue 18 §5): runs of 10k, 100k and 1M attribution rows (20 features x
1 layer of fmnist-cnn, 36-float phi maps per row as conv3's footprint at relu2 gives), then the peak RSS and time of
`tension export --csv`, `export --npy`, `select` (four rules, one of them pooling percentiles over every map) and
`atlas` (its top 1,000 images) on each, from /usr/bin/time.

Each run is real where it matters: `tension attribute` attributes its first 4 synthetic images, so that the store
holds a pass's own config, layout and plan; a generator then writes the other rows, of the same shape, with seeded
random values (running the model for days is not the point). Usage: store_memory.py BUILD [ROWS...]"""
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
tension = os.path.join(build, "tension")


def make_run(run, rows):
    images = rows // features
    args = [tension, "attribute", "fmnist-cnn", "--weights", "random", f"synthetic:noise?n={images}&size=28",
            "--limit", "4", "-l", "relu2", "--out", run]
    for k in range(features):
        args += ["-f", f"conv3:{k}"]
    subprocess.run(args, check=True, capture_output=True)
    db = sqlite3.connect(os.path.join(run, "store.sqlite"))
    first_id, = db.execute("SELECT id FROM images WHERE idx = 0").fetchone()
    cells = len(db.execute("SELECT phi_pos FROM attributions LIMIT 1").fetchone()[0]) // 4
    rng = random.Random(0)
    maps = [struct.pack(f"<{cells}f", *[rng.random() * rng.random() for _ in range(cells)]) for _ in range(64)]
    db.executemany("INSERT INTO images VALUES (?, ?, -1, NULL)",
                   ((i, first_id[:-1] + str(i)) for i in range(4, images)))

    def row(i, k):
        e_pos, e_neg = rng.random(), rng.random()
        return (i, k, 2 * rng.random() - 1, e_pos - e_neg, e_pos, e_neg, e_pos + e_neg, rng.random(), rng.random(),
                maps[rng.randrange(64)], maps[rng.randrange(64)])

    db.executemany("INSERT INTO attributions VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                   (row(i, k) for i in range(4, images) for k in range(features)))
    db.commit()
    db.close()


def peak(args):
    """Peak RSS in MB and wall seconds of one tension command."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M %e", tension] + args, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    rss, seconds = r.stderr.strip().splitlines()[-1].split()
    return int(rss) / 1024, float(seconds)


with tempfile.TemporaryDirectory() as tmp:
    print("| rows | images | export --csv | export --npy | select | atlas (top 1,000) |")
    print("|---|---|---|---|---|---|")
    for rows in sizes:
        run = os.path.join(tmp, f"run{rows}")
        make_run(run, rows)
        figures = [
            peak(["export", run, "--csv", os.path.join(tmp, "out.csv")]),
            peak(["export", run, "--npy", os.path.join(tmp, f"npy{rows}")]),
            peak(["select", run, "-f", "0", "-l", "0", "-r", "mei", "-r", "mti", "-r", "spatial", "-r", "channel",
                  "-k", "8", "--page-points", "200", "--out", os.path.join(tmp, f"sel{rows}")]),
            peak(["atlas", run, "-f", "0", "-l", "0", "--images", "1000", "--grid", "6", "--icon-steps", "10",
                  "--icon-batch", "36", "--icon-px", "16", "--top-images", "2", "--out", os.path.join(tmp, f"atlas{rows}")]),
        ]
        cells = " | ".join(f"{mb:.0f} MB, {s:.1f} s" for mb, s in figures)
        print(f"| {rows:,} | {rows // features:,} | {cells} |", flush=True)
