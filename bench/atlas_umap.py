"""bench/atlas_umap: UMAP of 10,000 x 480 planted-cluster vectors (10 Gaussian clusters, seeded) with the paper's
settings (10 neighbours, min_dist 0.1, cosine). Times tension's atlas/umap (median of RUNS runs, one process) and,
where R's uwot is installed (Debian r-cran-uwot, whose headers the build uses), uwot::umap on the same data with
all cores (n_threads and n_sgd_threads 2: its fastest, Hogwild, setting), timed inside R. Prints the medians and
each layout's 10-NN label agreement (the fraction of each point's 10 nearest layout neighbours from its cluster),
next to issue 7's reference figure: umap-learn was reported at about 20 s for this size (it is not installed here).
Usage: /usr/bin/python3 bench/atlas_umap.py BUILD_DIR [N] [DIM] [RUNS]"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

import numpy as np

build = sys.argv[1]
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
DIM = int(sys.argv[3]) if len(sys.argv) > 3 else 480
RUNS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
CLUSTERS, K = 10, 10

tmp = tempfile.mkdtemp(prefix="bench_atlas_umap_")
dump = os.path.join(tmp, "data")
# -1: the library's default exact_knn_max
cmd = [os.path.join(build, "bench", "bench_atlas_umap"), str(N), str(DIM), str(CLUSTERS), str(RUNS), "-1", dump]
out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
res = json.loads(out.strip().splitlines()[-1])
print(f"UMAP of {N} x {DIM} vectors ({CLUSTERS} planted clusters), 10 neighbours, min_dist 0.1, cosine, "
      f"{res['epochs']} epochs, {os.cpu_count()} cores")
print(f"  tension atlas/umap: {res['median_seconds']:.2f} s median of {RUNS} "
      f"(runs {', '.join(f'{s:.2f}' for s in res['seconds'])}; neighbour search {res['neighbors_seconds']:.2f} s, "
      f"{'exact' if res['exact_knn'] else 'hnswlib'}), 10-NN agreement {res['agreement_10nn']:.4f}")


def agreement(xy, labels):
    """The fraction of each point's K nearest layout neighbours (itself excluded) that share its label."""
    same = 0
    sq = (xy ** 2).sum(1)
    for start in range(0, len(xy), 1000):
        block = xy[start:start + 1000]
        d = sq[start:start + 1000, None] + sq[None, :] - 2 * block @ xy.T
        d[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        nn = np.argpartition(d, K, axis=1)[:, :K]
        same += (labels[nn] == labels[start:start + len(block), None]).sum()
    return same / (len(xy) * K)


labels = np.fromfile(dump + ".labels", dtype=np.int32)
rscript = shutil.which("Rscript")
has_uwot = rscript and subprocess.run([rscript, "-e", "quit(status = !requireNamespace('uwot', quietly = TRUE))"],
                                      capture_output=True).returncode == 0
if has_uwot:
    r_code = f"""
suppressMessages(library(uwot))
x <- matrix(readBin("{dump}.f32", "numeric", size = 4, n = {N * DIM}), nrow = {N}, byrow = TRUE)
for (r in seq_len({RUNS})) {{
  t <- system.time(y <- umap(x, n_neighbors = 10, min_dist = 0.1, metric = "cosine", n_threads = 2,
                             n_sgd_threads = 2, verbose = FALSE))[["elapsed"]]
  cat(t, "\\n")
}}
writeBin(as.vector(t(y)), "{dump}.uwot", size = 8)
"""
    r_out = subprocess.run([rscript, "-e", r_code], check=True, capture_output=True, text=True).stdout
    r_times = [float(v) for v in r_out.split()]
    r_xy = np.fromfile(dump + ".uwot", dtype=np.float64).reshape(N, 2)
    r_med = statistics.median(r_times)
    version = subprocess.run([rscript, "-e", "cat(as.character(packageVersion('uwot')))"],
                             capture_output=True, text=True).stdout
    print(f"  R uwot {version} (Annoy neighbours, spectral init): {r_med:.2f} s median of {RUNS} "
          f"(runs {', '.join(f'{s:.2f}' for s in r_times)}), 10-NN agreement {agreement(r_xy, labels):.4f}")
    print(f"  ratio uwot / tension: {r_med / res['median_seconds']:.2f}x")
else:
    print("  R uwot: not installed, no baseline run here")
print("  reference (issue 7): umap-learn reported around 20 s for 10,000 x 480; target under 10 s")
shutil.rmtree(tmp)
