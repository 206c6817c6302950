"""Scale-out of a dataset pass over MPI ranks (issue 19), on this machine. Four measurements, each a median of RUNS
whole-process runs (machines are noisy: medians and ratios):

1. images/s of `tension attribute` (the default model fmnist-cnn, conv3:0..3 attributed to relu2 and the input, the
   10,000 Fashion-MNIST test images) as one plain process, and under `mpirun -n 1` and `-n 2`, each rank given
   cores / ranks torch threads (all cores busy in every case); the ratio 2 ranks / 1 rank.
2. How evenly static striping (rank r takes batches r, r + P, ... of the to-do list) keeps the ranks busy when
   images differ in decode cost: an image folder of 1,200 PNGs, a quarter of them 1024x1024 (costly to decode),
   either shuffled among the small ones or all at the end of the listing; each rank's own seconds (run.json
   rank_seconds) and the idle share 1 - mean / max.
3. The write path's capacity: rows/s the SQLite writer of one rank takes when its rows are precomputed (run.json
   write_rows_per_second: the time inside the store's write alone), with the maps and S summed over positions kept,
   as the atlas pass keeps them.
4. The fold: rows/s at which rank 0 joins rank stores into the run's store (the same copy as `tension merge`, timed
   as a whole process on two shards of that pass), and the bytes per row on disk.

docs/benchmarks.md "Scale-out" reports them and derives the scaling model. Usage: scale.py BUILD [RUNS]"""
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

build = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
tension = os.path.join(build, "tension")
cores = os.cpu_count()
env = dict(os.environ)
env.setdefault("OPENBLAS_NUM_THREADS", "1")
env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"  # CI and these machines run as root
env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"


def run(cmd, out_dir):
    """Wall seconds of one command, and the run.json it wrote."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(" ".join(cmd) + "\n" + proc.stdout[-4000:])
    with open(os.path.join(out_dir, "run.json")) as f:
        return wall, json.load(f)


def launcher(ranks):
    if ranks == 0:  # a plain process, no MPI
        return [tension, "--threads", str(cores)]
    return ["mpirun", "--oversubscribe", "--bind-to", "none", "-n", str(ranks), tension, "--threads",
            str(max(1, cores // ranks))]


def pass_args(data, out, plans, extra=()):
    args = ["attribute", "fmnist-cnn", data, "-l", "relu2", "-l", "input", "--out", out, "--plan-cache", plans,
            "--batch-size", "32"]
    for unit in range(4):
        args += ["-f", f"conv3:{unit}"]
    return args + list(extra)


def median_pass(tmp, name, ranks, data, extra=()):
    """Median wall seconds and images/s over `runs` fresh passes (after one warm-up that plans), and the last run.json."""
    plans = os.path.join(tmp, "plans")
    walls, docs = [], []
    for k in range(runs + 1):
        out = os.path.join(tmp, f"{name}-{k}")
        wall, doc = run(launcher(ranks) + pass_args(data, out, plans, extra), out)
        if k > 0:
            walls.append(wall)
            docs.append(doc)
    wall = statistics.median(walls)
    images = docs[-1]["results"]["processed"] + docs[-1]["results"]["unreadable"]
    return wall, images / wall, docs


def write_folder(root, order):
    """1,200 PNGs: 900 of 28x28 and 300 of 1024x1024 (noise, so that PNG cannot compress it away), in class folders
    whose listing order puts the large ones where `order` says."""
    from PIL import Image
    rng = random.Random(0)
    kinds = ["small"] * 900 + ["large"] * 300
    if order == "shuffled":
        rng.shuffle(kinds)
    os.makedirs(os.path.join(root, "c"), exist_ok=True)
    for i, kind in enumerate(kinds):
        side = 28 if kind == "small" else 1024
        pixels = bytes(rng.getrandbits(8) for _ in range(side * side)) if kind == "small" else os.urandom(side * side)
        Image.frombytes("L", (side, side), pixels).save(os.path.join(root, "c", f"{i:05d}.png"))


with tempfile.TemporaryDirectory() as tmp:
    print(f"{cores} cores; {runs} runs of each after a warm-up; medians")
    print("\n1. The pass's images/s (fmnist-cnn, 4 features, 2 layers, 10,000 images)")
    print("| how | threads per rank | wall (s) | images/s | ratio to mpirun -n 1 |")
    print("|---|---|---|---|---|")
    data = "fashion-mnist:test"
    results = {}
    for ranks in (0, 1, 2):
        wall, rate, docs = median_pass(tmp, f"p{ranks}", ranks, data)
        results[ranks] = rate
    for ranks in (0, 1, 2):
        how = "plain process" if ranks == 0 else f"mpirun -n {ranks}"
        print(f"| {how} | {max(1, cores // max(1, ranks))} | {10000 / results[ranks]:.2f} | {results[ranks]:.0f} | "
              f"{results[ranks] / results[1]:.2f} |")

    print("\n2. Static striping with uneven decode cost (1,200 PNGs, 300 of them 1024x1024; 2 ranks)")
    print("| where the large images are | wall (s) | rank seconds | idle share (1 - mean/max) |")
    print("|---|---|---|---|")
    for order in ("shuffled", "at the end"):
        folder = os.path.join(tmp, "folder-" + order.replace(" ", "-"))
        write_folder(folder, "shuffled" if order == "shuffled" else "sorted")
        idles, seconds = [], []
        wall, _, docs = median_pass(tmp, "uneven-" + order.replace(" ", "-"), 2, folder,
                                    ["--decode-threads", "1"])
        for doc in docs:
            rs = doc["results"]["rank_seconds"]
            idles.append(1 - statistics.mean(rs) / max(rs))
            seconds.append(rs)
        mid = sorted(range(len(idles)), key=lambda k: idles[k])[len(idles) // 2]
        print(f"| {order} | {wall:.2f} | {', '.join(f'{s:.2f}' for s in seconds[mid])} | "
              f"{statistics.median(idles):.1%} |")

    print("\n3. The write path (one rank's SQLite writer; maps and S summed over positions kept)")
    wall, rate, docs = median_pass(tmp, "write", 0, data, ["--keep-channels"])
    write_rates = [d["results"]["write_rows_per_second"] for d in docs]
    rows = docs[-1]["results"]["rows"]
    store = os.path.join(tmp, f"write-{runs}", "store.sqlite")
    row_bytes = os.path.getsize(store) / rows
    print(f"{rows:,} rows of {row_bytes:,.0f} bytes on disk; the writer takes "
          f"{statistics.median(write_rates):,.0f} rows/s ({statistics.median(write_rates) * row_bytes / 1e6:.0f} MB/s) "
          f"while the pass makes {rate * rows / 10000:,.0f} rows/s")

    print("\n4. The fold (rank 0 joining rank stores; timed as `tension merge` of two shards of that pass)")
    plans = os.path.join(tmp, "plans")
    shards = []
    for k in range(2):
        out = os.path.join(tmp, f"shard{k}")
        run(launcher(0) + pass_args(data, out, plans, ["--keep-channels", "--shard", f"{k}/2"]), out)
        shards.append(out)
    walls = []
    for k in range(runs + 1):
        out = os.path.join(tmp, f"merged-{k}")
        wall, doc = run([tension, "merge", out] + shards, out)
        if k > 0:
            walls.append(wall)
    merge_rate = doc["results"]["rows"] / statistics.median(walls)
    print(f"{doc['results']['rows']:,} rows merged in {statistics.median(walls):.2f} s (whole process, start-up "
          f"included): {merge_rate:,.0f} rows/s, {merge_rate * row_bytes / 1e6:.0f} MB/s")
