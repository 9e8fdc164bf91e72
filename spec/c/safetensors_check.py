"""Checks a safetensors file written by wk_write_safetensors in spec/c/test_safetensors.c
(/usr/bin/python3 with numpy; no safetensors package: the format's facts are checked by hand).

Usage: safetensors_check.py FILE [empty]

FILE must hold the tensors of WRITTEN below (values from value()) and the metadata META, laid out
as the reference writer lays it out: header length N a multiple of 8, padded with spaces,
"__metadata__" first, then the tensors sorted by dtype (the reference Dtype enum, largest first)
and name, data_offsets contiguous from 0, the header text byte-identical to compact JSON with
non-ASCII kept (serde_json's and Python's escaping agree), the data exactly to the end of the
file, each tensor's bytes equal to NumPy's. With `empty`: no tensors and no metadata ("{}").
Prints problems (as TAP comments) and exits 1, or exits 0.
"""
import json, struct, sys

import numpy as np

RANK = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16",
        "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
NP = {"BOOL": "u1", "U8": "<u1", "I8": "<i1", "I16": "<i2", "U16": "<u2", "F16": "<f2", "I32": "<i4",
      "U32": "<u4", "F32": "<f4", "F64": "<f8", "I64": "<i8", "U64": "<u8"}

# the same list as test_safetensors.c's `written`
WRITTEN = [("zeta.kernel", "F32", (2, 3)), ("alpha.kernel", "F32", (3,)), ("b.u64", "U64", (2,)),
           ("a.i64", "I64", (2,)), ("f64", "F64", (2, 2)), ("i32", "I32", (3,)), ("u32", "U32", (3,)),
           ("bf16", "BF16", (3,)), ("f16", "F16", (2,)), ("i16", "I16", (2,)), ("u16", "U16", (2,)),
           ("i8", "I8", (5,)), ("u8", "U8", (3,)), ("flags", "BOOL", (4,)), ("scalar", "F32", ()),
           ("empty", "F32", (0, 3)), ("caf\u00e9.\u6743\u91cd\U0001F600", "F16", (2,)),
           ("quote\"back\\slash\nnew\x01ctl\x7f", "U8", (2,))]
META = [("format", "pt"), ("note", "\u00e9\"\\\n\x02 \U0001F600")]


def value(code, k):
    """Element k (flat, C order) as the C test sets it."""
    if code in ("F32", "F64", "F16", "BF16"):
        return (k - 3) * 0.25
    if code in ("I8", "I16", "I32", "I64"):
        return k - 3
    if code == "BOOL":
        return int(k % 3 == 0)
    return k * 3


def expected_bytes(code, shape):
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    vals = [value(code, k) for k in range(n)]
    if code == "BF16":
        f = np.array(vals, dtype="<f4").view("<u4")
        return (f >> 16).astype("<u2").tobytes()  # exact: the values need no rounding
    return np.array(vals, dtype=NP[code]).tobytes()


def main():
    path = sys.argv[1]
    empty = len(sys.argv) > 2 and sys.argv[2] == "empty"
    problems = []
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    raw = blob[8:8 + n]
    if n % 8:
        problems.append("header length %d not a multiple of 8" % n)
    text = raw.decode("utf-8")
    stripped = text.rstrip(" ")
    if len(text) - len(stripped) >= 8 or not stripped.endswith("}"):
        problems.append("padding is not 0..7 spaces after the JSON")
    pairs = json.loads(stripped, object_pairs_hook=lambda p: p)
    keys = [k for k, _ in pairs]
    written = [] if empty else WRITTEN
    meta = [] if empty else META
    if meta:
        if keys[0] != "__metadata__":
            problems.append("__metadata__ is not first: %r" % keys[:1])
        if dict(pairs).get("__metadata__") != meta:
            problems.append("metadata %r" % (dict(pairs).get("__metadata__"),))
    want_order = sorted(written, key=lambda t: (-RANK.index(t[1]), t[0].encode("utf-8")))
    tensor_keys = [k for k in keys if k != "__metadata__"]
    if tensor_keys != [t[0] for t in want_order]:
        problems.append("tensor order %r" % tensor_keys)
    obj = {k: v for k, v in pairs}
    at = 0
    data = blob[8 + n:]
    rebuilt = {}
    if meta:
        rebuilt["__metadata__"] = dict(meta)
    for name, code, shape in want_order:
        info = dict(obj.get(name, []))
        want = expected_bytes(code, shape)
        rebuilt[name] = {"dtype": code, "shape": list(shape), "data_offsets": [at, at + len(want)]}
        if list(dict(obj[name]).keys()) != ["dtype", "shape", "data_offsets"]:
            problems.append("%r: fields %r" % (name, list(info.keys())))
        if info.get("dtype") != code or info.get("shape") != list(shape):
            problems.append("%r: dtype/shape %r %r" % (name, info.get("dtype"), info.get("shape")))
        if info.get("data_offsets") != [at, at + len(want)]:
            problems.append("%r: data_offsets %r, expected %r" % (name, info.get("data_offsets"), [at, at + len(want)]))
        elif data[at:at + len(want)] != want:
            problems.append("%r: bytes %s, expected %s" % (name, data[at:at + len(want)].hex(), want.hex()))
        at += len(want)
    if at != len(data):
        problems.append("data is %d bytes, tensors %d" % (len(data), at))
    reference = json.dumps(rebuilt, separators=(",", ":"), ensure_ascii=False)
    if stripped != reference:
        problems.append("header text differs from compact JSON:\n  got  %r\n  want %r" % (stripped, reference))
    for p in problems:
        print("# " + p.replace("\n", "\n# "))
    print("# safetensors_check.py: " + ("ok" if not problems else "FAILED"))
    sys.exit(1 if problems else 0)


main()
