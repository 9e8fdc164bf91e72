"""Synthetic safetensors files and expectations for spec/c/test_safetensors.c (/usr/bin/python3).

Usage: safetensors_cases.py TMP_DIR

Writes files into TMP_DIR with a small writer of its own (struct + json, following the format:
u64 little-endian header length, JSON header, data) and prints one record per line, tab-separated
fields, each percent-quoted:
  OPEN <path> <OK or code> <message substring or -> [max_tensors [max_attribute_bytes]]
  NTENSORS <n>
  LAYER <i> <name> <weight names joined by ','>      (NLAYERS <n> first)
  INFO <name> <dtype name> <shape joined by ','>
  READ <name> <OK or code> <substring or -> <sha256 or -> <zero-copy: 1, 0 or ->
  META <key> <value, or - when absent>
  FLIP <path> <count>           random bit flips must fail cleanly or open
  END
"""
import hashlib, json, os, random, struct, sys
from urllib.parse import quote

import numpy as np

tmp = sys.argv[1]
out = []
count = [0]


def rec(*fields):
    out.append("\t".join(quote(str(f), safe="") for f in fields))


def write(name, header, data=b"", pad=True, n=None, tail=b"", cut=None):
    """header: a dict (json.dumps), str or bytes. Returns the path."""
    if isinstance(header, dict):
        header = json.dumps(header, separators=(",", ":"))
    if isinstance(header, str):
        header = header.encode("utf-8")
    if pad:
        header += b" " * ((8 - len(header) % 8) % 8)
    blob = struct.pack("<Q", len(header) if n is None else n) + header + data + tail
    if cut is not None:
        blob = blob[:cut]
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(blob)
    return path


SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4,
         "F64": 8, "I64": 8, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1, "C64": 8}
NAMES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "U16": "uint16", "F16": "float16",
         "BF16": "bfloat16", "I32": "int32", "U32": "uint32", "F32": "float32", "F64": "float64", "I64": "int64",
         "U64": "uint64", "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2", "C64": "complex64"}
RANK = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16",
        "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
rng = np.random.default_rng(20240601)


def random_bytes(code, shape):
    n = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if code == "BOOL":
        return (rng.integers(0, 2, n).astype(np.uint8)).tobytes()
    if code in ("F32", "F64", "F16"):
        dt = {"F32": "<f4", "F64": "<f8", "F16": "<f2"}[code]
        return rng.standard_normal(n).astype(dt).tobytes()
    return rng.integers(0, 256, n * SIZES[code], dtype=np.uint8).tobytes()


def layout(tensors, order="reference"):
    """tensors: [(name, code, shape, bytes)] -> (header dict, data). Offsets in reference order."""
    items = list(tensors)
    if order == "reference":
        items.sort(key=lambda t: (-RANK.index(t[1]), t[0].encode()))
    header, data, at = {}, b"", 0
    for name, code, shape, raw in items:
        header[name] = {"dtype": code, "shape": list(shape), "data_offsets": [at, at + len(raw)]}
        data += raw
        at += len(raw)
    return header, data


def expect_reads(tensors, path):
    """INFO and READ records; zero-copy expected (mmap) for aligned, non-bool, non-empty tensors."""
    with open(path, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    for name, code, shape, raw in tensors:
        rec("INFO", name, NAMES[code], ",".join(str(d) for d in shape))
        if code in ("F8_E4M3", "F8_E5M2", "C64"):
            rec("READ", name, "EDTYPE", "no weightkit dtype", "-", "-")
            continue
        at = 8 + n + header[name]["data_offsets"][0]
        zero_copy = int(code != "BOOL" and len(raw) > 0 and at % SIZES[code] == 0)
        if code == "BOOL":
            raw = bytes(1 if b else 0 for b in raw)
        rec("READ", name, "OK", "-", hashlib.sha256(raw).hexdigest(), zero_copy)


# ---- valid files -------------------------------------------------------------------------------
codes = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
tensors = [("model.%s.weight" % c.lower(), c, (2, 3), random_bytes(c, (2, 3))) for c in codes]
tensors += [("model.scalar", "F32", (), random_bytes("F32", ())),
            ("model.empty", "F32", (0, 4), b""),
            ("model.empty_i64", "I64", (3, 0), b""),
            ("rank8", "F16", (1, 2, 1, 2, 1, 2, 1, 2), random_bytes("F16", (1, 2, 1, 2, 1, 2, 1, 2))),
            ("encoder.layer.0.attention.q", "F32", (4, 4), random_bytes("F32", (4, 4))),
            ("encoder.layer.0.bias", "F32", (4,), random_bytes("F32", (4,))),
            ("caf\u00e9.\u6f22\u5b57.w\U0001F600", "F32", (3,), random_bytes("F32", (3,))),
            ("lm_head", "BF16", (5,), random_bytes("BF16", (5,)))]
header, data = layout(tensors)
header = {"__metadata__": {"format": "pt", "caf\u00e9": "\u00e9t\u00e9 \U0001F600 \"quoted\"\n"}, **header}
# ensure_ascii (the default) escapes every non-ASCII character, emoji as a surrogate pair
path = write("all_dtypes.safetensors", header, data)
rec("OPEN", path, "OK", "-")
rec("NTENSORS", len(tensors))
expect_reads(tensors, path)
rec("META", "format", "pt")
rec("META", "caf\u00e9", "\u00e9t\u00e9 \U0001F600 \"quoted\"\n")
rec("META", "absent", "-")
all_dtypes = path

# layers: grouped at the last '.', in header order of their first tensor
lay = [("b.x", "F32", (1,), random_bytes("F32", (1,))), ("a.y", "F32", (1,), random_bytes("F32", (1,))),
       ("b.z", "F32", (1,), random_bytes("F32", (1,))), ("plain", "F32", (1,), random_bytes("F32", (1,))),
       ("a.b.c", "F32", (1,), random_bytes("F32", (1,)))]
header, data = layout(lay, order="given")
path = write("layers.safetensors", header, data)
rec("OPEN", path, "OK", "-")
rec("NLAYERS", 4)
rec("LAYER", 0, "b", "x,z")
rec("LAYER", 1, "a", "y")
rec("LAYER", 2, "plain", "plain")
rec("LAYER", 3, "a.b", "c")
expect_reads(lay, path)
rec("META", "format", "-")

# unpadded header of odd length and unaligned offsets: reads copy
odd = [("u.a", "U8", (3,), random_bytes("U8", (3,))), ("u.b", "F64", (2,), random_bytes("F64", (2,))),
       ("u.c", "I32", (3,), random_bytes("I32", (3,)))]
header, data = layout(odd, order="given")
text = json.dumps(header, separators=(",", ":"))
text += " " * ((8 - len(text) % 8) % 8 + 1)  # data start 8n + 1: nothing aligned
path = write("unaligned.safetensors", text, data, pad=False)
rec("OPEN", path, "OK", "-")
expect_reads(odd, path)

# bool bytes other than 0/1 are normalized; unknown fields skipped; whitespace everywhere;
# __metadata__ null; F8 and C64 listed but not readable
misc = [("flags", "BOOL", (4,), bytes([0, 1, 2, 255])), ("f8", "F8_E4M3", (2,), b"\x01\x02"),
        ("f8b", "F8_E5M2", (1,), b"\x03"), ("c", "C64", (1,), b"\0" * 8)]
header, data = layout(misc)
for v in header.values():
    v["extra"] = {"nested": [1, 2.5e3, {"k": None}, True, False, "s\u00e9"]}
header["__metadata__"] = None
text = json.dumps(header, indent="\t")
path = write("misc.safetensors", text, data)
rec("OPEN", path, "OK", "-")
expect_reads(misc, path)

# an empty file: only "{}"
path = write("empty.safetensors", "{}")
rec("OPEN", path, "OK", "-")
rec("NTENSORS", 0)
rec("NLAYERS", 0)

# metadata only, unpadded
path = write("meta_only.safetensors", '{"__metadata__":{"a":"1"}}', pad=False)
rec("OPEN", path, "OK", "-")
rec("META", "a", "1")

# a NUL-free name made of escapes: \u0041 = 'A', \/ = '/'
path = write("escapes.safetensors", '{"\\u0041\\/\\t.w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\x07")
rec("OPEN", path, "OK", "-")
rec("READ", "A/\t.w", "OK", "-", hashlib.sha256(b"\x07").hexdigest(), "-")

# exactly max_tensors tensors pass, one more fails
three = [("t%d" % i, "U8", (1,), bytes([i])) for i in range(3)]
header, data = layout(three)
path = write("three.safetensors", header, data)
rec("OPEN", path, "OK", "-", 3)
rec("OPEN", path, "ELIMIT", "more than 2 tensors", 2)
rec("OPEN", path, "ELIMIT", "safetensors header of", 0, 16)

# ---- hostile files: one expected error each ----------------------------------------------------
one = {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
d8 = b"\0" * 8


def bad(name, code, sub, header, data=d8, **kw):
    rec("OPEN", write(name, header, data, **kw), code, sub)


bad("past_eof", "EFORMAT", "past the end of the file", one, n=1000)
bad("huge_n", "ELIMIT", "safetensors header of", one, n=(1 << 63) + 5)
rec("OPEN", write("short", b"", b"", pad=False, cut=5), "EFORMAT", "too short")
bad("n_zero", "EFORMAT", "does not start with '{'", "", b"", pad=False)
bad("not_object", "EFORMAT", "does not start with '{'", "[1,2]")
bad("invalid_json", "EFORMAT", "invalid safetensors header", '{"w":{"dtype":"F32",')
bad("trailing_comma", "EFORMAT", "invalid safetensors header", '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},}')
bad("text_after", "EFORMAT", "text after the value", '{} x')
bad("two_objects", "EFORMAT", "text after the value", '{}{}')
bad("dup_name", "EFORMAT", "duplicate tensor name \"w\"",
    '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}')
bad("dup_field", "EFORMAT", "duplicate key \"shape\"",
    '{"w":{"dtype":"F32","shape":[2],"shape":[2],"data_offsets":[0,8]}}')
bad("dup_meta", "EFORMAT", "duplicate key \"k\"", '{"__metadata__":{"k":"1","k":"2"}}', b"")
bad("dup_meta_obj", "EFORMAT", "duplicate \"__metadata__\"", '{"__metadata__":{},"__metadata__":{}}', b"")
bad("dup_skipped", "EFORMAT", "a duplicate key",
    '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":{"a":1,"a":2}}}')
bad("meta_not_string", "EFORMAT", "the value of \"k\" is not a string", '{"__metadata__":{"k":1}}', b"")
bad("meta_not_object", "EFORMAT", "\"__metadata__\" is not a JSON object", '{"__metadata__":"x"}', b"")
bad("overlap", "EFORMAT", "overlaps",
    {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})
bad("hole", "EFORMAT", "a hole of 4 bytes",
    {"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}},
    b"\0" * 12)
bad("hole_first", "EFORMAT", "a hole of 4 bytes", {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})
bad("out_of_bounds", "EFORMAT", "past the end of the data",
    {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})
bad("offset_huge", "EFORMAT", "an integer out of range",
    '{"a":{"dtype":"F32","shape":[1],"data_offsets":[18446744073709551612,18446744073709551616]}}')
bad("size_mismatch", "EFORMAT", "needs 12", {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})
bad("end_before_begin", "EFORMAT", "end before they begin", {"a": {"dtype": "F32", "shape": [0], "data_offsets": [8, 0]}})
bad("unknown_dtype", "EFORMAT", "unknown dtype \"Q4\"", {"a": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}})
bad("dtype_not_string", "EFORMAT", "\"dtype\" is not a string", {"a": {"dtype": 4, "shape": [2], "data_offsets": [0, 8]}})
bad("float_shape", "EFORMAT", "fraction or exponent", '{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}')
bad("exp_shape", "EFORMAT", "fraction or exponent", '{"a":{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}}')
bad("negative_dim", "EFORMAT", "negative value", '{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}')
bad("negative_offset", "EFORMAT", "negative value", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}')
bad("string_dim", "EFORMAT", "not an integer", '{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}')
bad("three_offsets", "EFORMAT", "more than 2 values", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}')
bad("one_offset", "EFORMAT", "does not hold two values", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}')
bad("no_dtype", "EFORMAT", "no \"dtype\"", '{"a":{"shape":[2],"data_offsets":[0,8]}}')
bad("no_offsets", "EFORMAT", "no \"data_offsets\"", '{"a":{"dtype":"F32","shape":[2]}}')
bad("tensor_not_object", "EFORMAT", "not a JSON object", '{"a":[1]}')
bad("rank9", "ELIMIT", "rank above 8", {"a": {"dtype": "U8", "shape": [1] * 9, "data_offsets": [0, 1]}}, b"\0")
bad("numel_overflow", "EFORMAT", "overflows",
    {"a": {"dtype": "U8", "shape": [1 << 32, 1 << 32], "data_offsets": [0, 8]}})
bad("bytes_overflow", "EFORMAT", "overflows", {"a": {"dtype": "U64", "shape": [1 << 62], "data_offsets": [0, 8]}})
bad("f4_odd", "EFORMAT", "not a whole number of bytes", {"a": {"dtype": "F4", "shape": [3], "data_offsets": [0, 2]}}, b"\0\0")
bad("deep", "EFORMAT", "nesting too deep",
    '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":' + "[" * 1000 + "]" * 1000 + "}}")
bad("deep_unclosed", "EFORMAT", "nesting too deep", '{"a":{"dtype":"F32","x":' + "[" * 100000)
bad("truncated_data", "EFORMAT", "past the end of the data", one, b"\0" * 5)
bad("appended", "EFORMAT", "3 bytes after the last tensor", one, b"\0" * 11)
bad("lone_high", "EFORMAT", "lone high surrogate", '{"\\ud83d":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')
bad("lone_low", "EFORMAT", "lone low surrogate", '{"\\ude00":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')
bad("bad_utf8", "EFORMAT", "invalid UTF-8", b'{"\xff":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')
bad("overlong_utf8", "EFORMAT", "invalid UTF-8", b'{"\xc0\xaf":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')
bad("surrogate_utf8", "EFORMAT", "invalid UTF-8", b'{"\xed\xa0\x80":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')
bad("control_char", "EFORMAT", "control character", '{"a\nb":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')
bad("nul_name", "EFORMAT", "NUL character", '{"a\\u0000b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')
bad("nul_meta", "EFORMAT", "NUL character", '{"__metadata__":{"k":"v\\u0000"}}', b"")
bad("bad_escape", "EFORMAT", "a bad escape", '{"a\\x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')
bad("bad_u_escape", "EFORMAT", "a bad \\u escape", '{"a\\u12g4":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}')
bad("unterminated", "EFORMAT", "an unterminated string", '{"abc')
bad("bad_literal", "EFORMAT", "a bad literal", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":tru}}')
bad("bad_number", "EFORMAT", "a malformed number", '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":-}}')
bad("key_not_string", "EFORMAT", "a string key expected", '{1:2}')

rec("FLIP", all_dtypes, 400)
rec("FLIP", os.path.join(tmp, "layers.safetensors"), 200)
rec("END")
print("\n".join(out))
