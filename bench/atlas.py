"""bench/atlas: the whole feature attribution atlas on the default model, as `make demo` and a user run it:
`tension attribute` of fmnist-cnn conv3:40 at relu2 over the 10,000 Fashion-MNIST test images, then `tension atlas`
with the paper code's defaults (top 10,000 images by L2,1 norm, UMAP, 30 x 30 grid, icons by 202 Adam steps, 30
per batch). Prints each stage's time from run.json (median of RUNS runs). Then the icon stage's batching against
its unbatched form, in the same script: the same atlas with 20-step icons rendered 30 per batch and one at a time
(ratio of medians). Usage: /usr/bin/python3 bench/atlas.py BUILD_DIR [RUNS]"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

build = sys.argv[1]
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
tension = os.path.join(build, "tension")
tmp = tempfile.mkdtemp(prefix="bench_atlas_")
run = os.path.join(tmp, "run")


def call(*args):
    subprocess.run([tension, "--log-level", "warn", *args], check=True, stdout=subprocess.DEVNULL)


call("attribute", "fmnist-cnn", "fashion-mnist:test", "--feature", "conv3:40", "--layer", "relu2", "--out", run)


def atlas(*extra):
    out = os.path.join(tmp, "atlas")
    shutil.rmtree(out, ignore_errors=True)  # no cached icons
    call("atlas", run, "--out", out, *extra)
    with open(os.path.join(out, "run.json")) as f:
        doc = json.load(f)
    return doc["timings_s"], doc["results"]["atlas"]


stages = ["atlas_attribution", "atlas_umap", "atlas_icons"]
full = [atlas() for _ in range(RUNS)]
res = full[0][1]
med = {s: statistics.median(t[s] for t, _ in full) for s in stages}
total = statistics.median(r["seconds"] for _, r in full)
print(f"atlas of fmnist-cnn conv3:40 at relu2: {res['images']} images, {res['grid']}x{res['grid']} grid, "
      f"{res['icons']} icons (202 steps, 30 per batch); medians of {RUNS} runs, {os.cpu_count()} threads")
print(f"  second attribution pass {med['atlas_attribution']:.2f} s, UMAP {med['atlas_umap']:.2f} s, "
      f"icons {med['atlas_icons']:.2f} s; whole atlas {total:.2f} s")

batched, single = [], []
for _ in range(RUNS):
    batched.append(atlas("--icon-steps", "20")[0]["atlas_icons"])
    single.append(atlas("--icon-steps", "20", "--icon-batch", "1")[0]["atlas_icons"])
print(f"  icon stage at 20 steps: 30 per batch {statistics.median(batched):.2f} s, one at a time "
      f"{statistics.median(single):.2f} s: batching {statistics.median(single) / statistics.median(batched):.1f}x")
shutil.rmtree(tmp, ignore_errors=True)
