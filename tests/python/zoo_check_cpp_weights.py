"""Called by tests/test_zoo_weights.cpp: loads weights that the C++ zoo saved into the independent Python model
(strictly: every key and shape must match) and compares its logits with those the C++ model gave.

Usage: /usr/bin/python3 zoo_check_cpp_weights.py inception|fmnist-bn WEIGHTS REFS; exits 0 when they match.
"""
import sys

import torch

from zoo_fmnist_ref import FmnistCnnRef
from zoo_inception_ref import InceptionV1Ref


def main():
    kind, weights, refs = sys.argv[1:4]
    state = torch.load(weights)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        sys.exit(f"{weights} is not a dict of tensors")
    model = InceptionV1Ref() if kind == "inception" else FmnistCnnRef(bn=True)
    model.load_state_dict(state, strict=True)
    model.eval()
    ref = torch.load(refs)
    with torch.no_grad():
        if kind == "inception":
            logits = model(ref["input"])["softmax2_pre_activation_matmul"]
        else:
            logits = model.taps(ref["input"])["fc2"]
    err = ((logits - ref["logits"]).abs().max() / ref["logits"].abs().max()).item()
    print(f"max_rel_err {err:.3g}")
    sys.exit(0 if err < 1e-4 else 1)


if __name__ == "__main__":
    main()
