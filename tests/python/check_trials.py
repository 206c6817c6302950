"""Checks a trial bundle of the human experiment (paper App B) against the rules, independently of tension.
Usage: check_trials.py BUNDLE [--model NET.pt --images IDX]

From trials.json alone (every trial of every layer):
- 6 example MEIs and 9 choices; the target MEI above every example and every other choice, the examples in
  descending order, the target MII below every other crop of the trial;
- each distractor within 2 sd of its feature's mean, with a hidden-vector L1 norm at or above the layer's 90th
  percentile;
- across a layer's trials no crop is an MII or distractor twice, no image gives crops at two positions, and a
  trial shows each image once; every crop's picture is a PNG.
With --model (a traced chain of modules whose layers are ReLU modules) and --images (the IDX file it was built from),
it also recomputes, from the pre-ReLU input of the layer (the chain of the model's children run up to it): every recorded activation and L1 norm, each feature's mean
and sd over all crops (ddof 1), the layer's 90th percentile, the target MEI, the examples and the target MII by
the greedy rule (features in trial order, an image already shown at another position skipped), and the
distractors' eligibility. Exits 1 with the first violation."""
import json
import os
import struct
import sys

import numpy as np

TOL = 1e-4


def fail(msg):
    print("check_trials: " + msg)
    sys.exit(1)


def close(a, b, what):
    if abs(a - b) > TOL * max(1.0, abs(a), abs(b)):
        fail(f"{what}: {a} recorded, {b} expected")


bundle = sys.argv[1]
args = dict(zip(sys.argv[2::2], sys.argv[3::2]))
doc = json.load(open(os.path.join(bundle, "trials.json")))
crops = {c["id"]: c for c in doc["crops"]}
layers = {l["name"]: l for l in doc["layers"]}

for c in crops.values():
    with open(os.path.join(bundle, "crops", c["id"] + ".png"), "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            fail(f"crop {c['id']}: not a PNG")

by_layer = {}
for t in doc["trials"]:
    by_layer.setdefault(t["layer"], []).append(t)

for name, trials in by_layer.items():
    p90 = layers[name]["l1_p90"]
    foils, position = set(), {}
    for t in trials:
        who = f"trial {t['id']} ({name})"
        ex, ch = t["examples"], t["choices"]
        if len(ex) != 6 or len(ch) != 9:
            fail(f"{who}: {len(ex)} examples and {len(ch)} choices")
        mei, mii = ch[t["mei"]], ch[t["mii"]]
        acts = [e["activation"] for e in ex]
        if acts != sorted(acts, reverse=True):
            fail(f"{who}: examples not in descending order")
        others = [c["activation"] for i, c in enumerate(ch) if i != t["mei"]]
        if mei["activation"] < max(acts + others):
            fail(f"{who}: the target MEI is not the highest crop")
        if mii["activation"] > min(acts + [c["activation"] for c in ch]):
            fail(f"{who}: the target MII is not the lowest crop")
        dis = [c for i, c in enumerate(ch) if i not in (t["mei"], t["mii"])]
        for d in dis:
            if abs(d["activation"] - t["mean"]) > 2 * t["sd"] * (1 + TOL):
                fail(f"{who}: distractor {d['crop']} at {d['activation']} is outside {t['mean']} +- 2 * {t['sd']}")
            if crops[d["crop"]]["l1"] < p90 * (1 - TOL):
                fail(f"{who}: distractor {d['crop']} has L1 {crops[d['crop']]['l1']} below the P90 {p90}")
        images = set()
        for c in ex + ch:
            cr = crops[c["crop"]]
            if cr["layer"] != name:
                fail(f"{who}: crop {cr['id']} is of layer {cr['layer']}")
            if cr["image"] in images:
                fail(f"{who}: image {cr['image']} appears twice")
            images.add(cr["image"])
            at = (cr["row"], cr["col"])
            if position.setdefault(cr["image"], at) != at:
                fail(f"{who}: image {cr['image']} at {at} and at {position[cr['image']]} in layer {name}")
        for c in [mii] + dis:
            if c["crop"] in foils:
                fail(f"{who}: crop {c['crop']} is an MII or distractor twice in layer {name}")
            foils.add(c["crop"])

if "--model" in args:
    import torch

    net = torch.jit.load(args["--model"])
    with open(args["--images"], "rb") as f:
        _, n, h, w = struct.unpack(">IIII", f.read(16))
        x = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).float().div(255).view(n, 1, h, w)
    for name, trials in by_layer.items():
        # A traced module takes no hooks: run its chain of children up to the ReLU, whose input is the layer's.
        h = x
        with torch.no_grad():
            for child, module in net.named_children():
                if child == name:
                    break
                h = module(h)
        hid = h.permute(0, 2, 3, 1).double()  # [N, H, W, C]
        H, W = hid.shape[1:3]
        l1 = hid.abs().sum(-1)
        close(layers[name]["l1_p90"], float(np.percentile(l1.numpy().ravel(), 90)), f"{name} P90 of L1")
        cent = torch.from_numpy(np.load(os.path.join(bundle, layers[name]["centroids"]))).double()
        position, foils = {}, set()
        for t in trials:
            who = f"trial {t['id']} ({name})"
            v = cent[t["feature"]]
            dot = hid @ v
            a = dot * (dot / (hid.norm(dim=-1) * v.norm()).clamp_min(1e-300)) ** doc["cos_power"]
            close(t["mean"], float(a.mean()), f"{who} mean")
            close(t["sd"], float(a.flatten().std()), f"{who} sd")
            for c in t["examples"] + t["choices"]:
                cr = crops[c["crop"]]
                close(c["activation"], float(a[cr["image"], cr["row"], cr["col"]]), f"{who} crop {cr['id']}")
                close(cr["l1"], float(l1[cr["image"], cr["row"], cr["col"]]), f"{who} crop {cr['id']} L1")
            flat = a.flatten(1)
            hi, hi_at = flat.max(1)
            lo, lo_at = flat.min(1)
            free = lambda i, p: position.get(i, p) == p
            mine, meis = set(), []
            for i in sorted(range(n), key=lambda i: (-float(hi[i]), i)):
                p = divmod(int(hi_at[i]), W)
                if len(meis) < 7 and free(i, p):
                    meis.append((i, p))
                    mine.add(i)
            got = [crops[c["crop"]] for c in [t["choices"][t["mei"]]] + t["examples"]]
            if [(g["image"], (g["row"], g["col"])) for g in got] != meis:
                fail(f"{who}: MEI and examples {[(g['image'], g['row'], g['col']) for g in got]}, expected {meis}")
            mii = next((i, divmod(int(lo_at[i]), W)) for i in sorted(range(n), key=lambda i: (float(lo[i]), i))
                       if free(i, divmod(int(lo_at[i]), W)) and i not in mine
                       and (i, divmod(int(lo_at[i]), W)) not in foils)
            g = crops[t["choices"][t["mii"]]["crop"]]
            if (g["image"], (g["row"], g["col"])) != mii:
                fail(f"{who}: MII {(g['image'], g['row'], g['col'])}, expected {mii}")
            for i, c in enumerate(t["choices"]):
                cr = crops[c["crop"]]
                if i not in (t["mei"], t["mii"]):
                    val = float(a[cr["image"], cr["row"], cr["col"]])
                    if abs(val - float(a.mean())) > 2 * float(a.flatten().std()) or \
                            float(l1[cr["image"], cr["row"], cr["col"]]) < float(np.percentile(l1.numpy(), 90)):
                        fail(f"{who}: distractor {cr['id']} is not eligible")
            for c in t["examples"] + t["choices"]:
                cr = crops[c["crop"]]
                position[cr["image"]] = (cr["row"], cr["col"])
            for i, c in enumerate(t["choices"]):
                if i != t["mei"]:
                    cr = crops[c["crop"]]
                    foils.add((cr["image"], (cr["row"], cr["col"])))
print(f"check_trials: {len(doc['trials'])} trials of {len(by_layer)} layers keep every rule")
