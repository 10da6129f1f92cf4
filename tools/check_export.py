#!/usr/bin/env python3
"""Checks `lsskd export` files with the ecosystem's own readers (test-only; tools/test.sh
installs onnx, onnxruntime, safetensors and numpy into .build/testenv).

  check_export.py onnx MODEL.onnx IMAGES.f32 EXPECTED.f32 N C H W [MODEL IMAGES EXPECTED N C H W ...]
      onnx.checker on each model, then onnxruntime on its images ([N, C, H, W] float32, raw
      little-endian): every image's top-1 must equal the expected logits' ([N, classes]) and
      max |logit difference| <= 1e-4. Prints one JSON line per model with the figures (several
      models in one call: the packages are imported once).
  check_export.py safetensors FILE
      reads the file with the safetensors package; prints one JSON line: metadata and, per
      tensor, its shape and the sum of its values (float64).
"""
import json
import sys

import numpy as np


def check_onnx(path, images, expected, n, c, h, w):
    import onnx
    import onnxruntime as ort

    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    x = np.fromfile(images, dtype="<f4").reshape(n, c, h, w)
    want = np.fromfile(expected, dtype="<f4").reshape(n, -1)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {"images": x})[0]
    diff = float(np.abs(got - want).max())
    same = int((got.argmax(1) == want.argmax(1)).sum())
    print(json.dumps({"model": path, "images": n, "same_top1": same, "max_abs_diff": diff,
                      "max_abs_logit": float(np.abs(want).max()), "opset": model.opset_import[0].version,
                      "nodes": len(model.graph.node)}))
    if same != n or diff > 1e-4:
        sys.exit(f"FAIL: {path}: top-1 equal on {same}/{n} images, max |logit difference| {diff}")


def check_safetensors(path):
    from safetensors import safe_open

    out = {"tensors": {}}
    with safe_open(path, framework="numpy") as f:
        out["metadata"] = f.metadata()
        for name in f.keys():
            t = f.get_tensor(name)
            out["tensors"][name] = {"shape": list(t.shape), "dtype": str(t.dtype), "sum": float(t.astype(np.float64).sum())}
    print(json.dumps(out))


def main():
    kind = sys.argv[1]
    if kind == "onnx":
        args = sys.argv[2:]
        if not args or len(args) % 7:
            sys.exit(__doc__)
        for k in range(0, len(args), 7):
            path, images, expected = args[k:k + 3]
            n, c, h, w = (int(v) for v in args[k + 3:k + 7])
            check_onnx(path, images, expected, n, c, h, w)
    elif kind == "safetensors":
        check_safetensors(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
