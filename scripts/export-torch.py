#!/usr/bin/env python3
"""Convert voxelgrad checkpoints to PyTorch state dicts and back (Debian's python3-torch; no other package).

  /usr/bin/python3 scripts/export-torch.py to-torch model.safetensors model.pt
  /usr/bin/python3 scripts/export-torch.py from-torch model.pt model.safetensors [--like model.safetensors]
  /usr/bin/python3 scripts/export-torch.py selftest model.safetensors

voxelgrad writes safetensors with torchvision-style names (conv1.weight, layer2.0.downsample.0.weight,
bn1.running_mean, bn1.num_batches_tracked, fc.weight, head_fc.weight, …). `to-torch` drops the optimizer
tensors (optimizer.momentum.*) and keeps the rest as a state dict loadable with `model.load_state_dict`.
`from-torch` writes the tensors back (F32, num_batches_tracked as I64); `--like` copies the metadata
(config, epoch) of an existing voxelgrad checkpoint so `voxelgrad predict --checkpoint` can use the file.
`selftest` round-trips a checkpoint through both directions and checks every tensor is bit-identical.
Not used by the tests (they never run Python); run by hand, results recorded in the issue notes.
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "F64": torch.float64}
NAMES = {v: k for k, v in DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as fh:
        data = fh.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, e in header.items():
        b, en = e["data_offsets"]
        raw = bytearray(data[base + b : base + en])
        t = torch.frombuffer(raw, dtype=DTYPES[e["dtype"]]) if raw else torch.zeros(0, dtype=DTYPES[e["dtype"]])
        tensors[name] = t.reshape(e["shape"]).clone()
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header = {}
    if meta:
        header["__metadata__"] = meta
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":"))
    h += " " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)))
        fh.write(h.encode())
        for b in blobs:
            fh.write(b)


def to_torch(src, dst):
    tensors, meta = read_safetensors(src)
    sd = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    torch.save(sd, dst)
    print(f"{dst}: {len(sd)} tensors ({sum(v.numel() for k, v in sd.items() if 'running' not in k and 'num_batches' not in k)} values in parameters); config: {meta.get('config', '-')[:120]}")


def from_torch(src, dst, like=None):
    sd = torch.load(src, map_location="cpu")
    if "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    out = {}
    for k, v in sd.items():
        out[k] = v.to(torch.int64) if k.endswith("num_batches_tracked") else v.to(torch.float32)
    meta = {"format": "pt", "producer": "voxelgrad export-torch.py"}
    if like:
        _, m = read_safetensors(like)
        meta.update({k: m[k] for k in ("config", "epoch") if k in m})
    write_safetensors(dst, out, meta)
    print(f"{dst}: {len(out)} tensors")


def selftest(path):
    import os
    import tempfile

    a, _ = read_safetensors(path)
    with tempfile.TemporaryDirectory() as d:
        pt = os.path.join(d, "m.pt")
        back = os.path.join(d, "m.safetensors")
        to_torch(path, pt)
        from_torch(pt, back, like=path)
        b, _ = read_safetensors(back)
    keys = [k for k in a if not k.startswith("optimizer.")]
    assert sorted(keys) == sorted(b), "tensor names differ after the round trip"
    for k in keys:
        assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), f"{k} differs after the round trip"
    print(f"selftest ok: {len(keys)} tensors bit-identical after safetensors -> .pt -> safetensors")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    cmd = sys.argv[1]
    if cmd == "to-torch":
        to_torch(sys.argv[2], sys.argv[3])
    elif cmd == "from-torch":
        like = sys.argv[sys.argv.index("--like") + 1] if "--like" in sys.argv else None
        from_torch(sys.argv[2], sys.argv[3], like)
    elif cmd == "selftest":
        selftest(sys.argv[2])
    else:
        print(__doc__)
        sys.exit(2)
