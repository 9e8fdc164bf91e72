"""Expectations and synthetic TF bundles for spec/c/test_tfbundle.c (run with /usr/bin/python3).

Usage: tfbundle_cases.py FIXTURES_DIR TMP_DIR

Writes hostile and unusual bundles into TMP_DIR with a small bundle writer of its own (LevelDB-style
table, protobuf encoding, CRC-32C, a literal-only Snappy encoder; keras-formats.md §5) and prints one
record per line, tab-separated fields, each percent-quoted:
  OPEN <path> <OK or code: EFORMAT, ELIMIT, ...> <message substring or ->
  FORMAT <format>              the last opened file's wk_file_format
  NTENSORS <n>                 wk_file_tensors count (slice keys and the header not listed)
  NLAYERS <n>
  LAYER <i> <name> <weight names joined by ','>
  READ <key> <OK or code> <substring or -> <sha256 or -> <dtype or ->
  STRS <key> <OK or code> <substring or -> <lengths joined by ','> <sha256 of the joined bytes or ->
  GRAPH <node count> <node 0's children local names joined by ','>
  GRAPHKEYS                    every attribute's checkpoint_key of the graph names a listed tensor
  FLIP <index path> <count>    random bit flips of this index (data shard beside it) must fail cleanly
  END
Real bundles: keys, dtypes, shapes, sha256 and string lengths come from expected/<name>.json.
"""
import hashlib, json, os, random, struct, sys
from urllib.parse import quote

fixtures, tmp = sys.argv[1], sys.argv[2]
out = []


def rec(*fields):
    out.append("\t".join(quote(str(f), safe="") for f in fields))


# ---- CRC-32C (Castagnoli, reflected 0x82F63B78) and TF's mask ----------------------------------
_T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _T.append(c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _T[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask(c):
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


# ---- protobuf encoding ------------------------------------------------------------------------
def varint(v):
    v &= (1 << 64) - 1
    b = bytearray()
    while True:
        x = v & 0x7F
        v >>= 7
        if v:
            b.append(x | 0x80)
        else:
            b.append(x)
            return bytes(b)


def f_varint(n, v):
    return varint(n << 3) + varint(v)


def f_bytes(n, b):
    return varint(n << 3 | 2) + varint(len(b)) + b


def f_fixed32(n, v):
    return varint(n << 3 | 5) + struct.pack("<I", v)


def shape_proto(shape):
    return b"".join(f_bytes(2, f_varint(1, d) if d else b"") for d in shape)


def header_proto(num_shards=1, big=False, extra=b"", version=None):
    p = f_varint(1, num_shards) if num_shards else b""
    if big:
        p += f_varint(2, 1)
    p += f_bytes(3, version if version is not None else f_varint(1, 1))
    return p + extra


def entry_proto(dtype, shape, shard, offset, size, crc, extra=b"", slices=None):
    p = f_varint(1, dtype) + f_bytes(2, shape_proto(shape))
    if shard:
        p += f_varint(3, shard)
    if offset:
        p += f_varint(4, offset)
    if size:
        p += f_varint(5, size)
    p += f_fixed32(6, crc)
    for s in slices or []:
        p += f_bytes(7, b"".join(f_bytes(1, f_varint(1, st) + (f_varint(2, ln) if ln != -1 else b""))
                                  for st, ln in s))
    return p + extra


# ---- Snappy (literal-only: a valid stream) and the table --------------------------------------
def snappy_literal(data):
    o = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            o.append(n << 2)
        elif n < 256:
            o += bytes([60 << 2, n])
        else:
            o += bytes([61 << 2]) + struct.pack("<H", n)
        o += chunk
    return bytes(o)


def block(entries, restart=16):
    b, restarts, prev = bytearray(), [], b""
    for i, (k, v) in enumerate(entries):
        shared = 0
        if i % restart == 0:
            restarts.append(len(b))
        else:
            while shared < min(len(k), len(prev)) and k[shared] == prev[shared]:
                shared += 1
        b += varint(shared) + varint(len(k) - shared) + varint(len(v)) + k[shared:] + v
        prev = k
    if not restarts:
        restarts = [0]
    for r in restarts:
        b += struct.pack("<I", r)
    return bytes(b + struct.pack("<I", len(restarts)))


def table(pairs, block_size=4096, snappy=False):
    f, index = bytearray(), []

    def put(contents, compress):
        off = len(f)
        body = snappy_literal(contents) if compress else contents
        t = b"\x01" if compress else b"\x00"
        f.extend(body + t + struct.pack("<I", mask(crc32c(body + t))))
        return varint(off) + varint(len(body))

    cur = []
    for k, v in pairs:
        cur.append((k, v))
        if sum(len(a) + len(b) + 6 for a, b in cur) >= block_size:
            index.append((cur[-1][0], put(block(cur), snappy)))
            cur = []
    if cur:
        index.append((cur[-1][0], put(block(cur), snappy)))
    meta = put(block([]), False)
    idx = put(block(index, 1), False)
    footer = meta + idx
    footer += b"\0" * (40 - len(footer)) + struct.pack("<II", 0x8B80FB57, 0xDB477524)
    return bytes(f + footer)


# ---- a bundle writer --------------------------------------------------------------------------
DT = {"float32": (1, "<f", 4), "float64": (2, "<d", 8), "int32": (3, "<i", 4), "uint8": (4, "B", 1),
      "int64": (9, "<q", 8), "bool": (10, "B", 1), "float16": (19, "<e", 2), "uint16": (17, "<H", 2)}


def le_bytes(dtype, values):
    fmt = DT[dtype][1]
    return b"".join(struct.pack(fmt, v) for v in values)


def swap(data, width):
    return b"".join(data[i:i + width][::-1] for i in range(0, len(data), width))


def string_payload(items):
    lens = b"".join(varint(len(s)) for s in items)
    c = 0
    for s in items:
        c = crc32c(struct.pack("<I" if len(s) <= 0xFFFFFFFF else "<Q", len(s)), c)
    stored = struct.pack("<I", mask(c))
    body = b"".join(items)
    c = crc32c(body, crc32c(stored, c))
    return lens + stored + body, c


def ordered_num(v):
    b = v.to_bytes(8, "big").lstrip(b"\0")
    return bytes([len(b)]) + b


def ordered_signed(v):
    x = ~v if v < 0 else v
    n = x.bit_length() // 7 + 1
    buf = bytearray((v & ((1 << 80) - 1)).to_bytes(10, "big"))[10 - n:]
    h0 = [0, 0x80, 0xC0, 0xE0, 0xF0, 0xF8, 0xFC, 0xFE, 0xFF, 0xFF, 0xFF][n]
    h1 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xC0][n]
    buf[0] ^= h0
    if n > 1:
        buf[1] ^= h1
    return bytes(buf)


def slice_key(name, extents):
    k = ordered_num(0)
    k += name.replace(b"\xff", b"\xff\x00").replace(b"\x00", b"\x00\xff") + b"\x00\x01"
    k += ordered_num(len(extents))
    for st, ln in extents:
        k += ordered_signed(st) + ordered_signed(ln)
    return k


def write_bundle(prefix, tensors, num_shards=1, big=False, snappy=False, header_extra=b"", block_size=4096,
                 raw_entries=None, header=None, version=None, sort=True):
    """tensors: list of dicts {key, dtype, shape, data (LE bytes) | strings, shard, extra, slices}."""
    shards = [bytearray() for _ in range(num_shards)]
    pairs = []
    for t in tensors:
        key = t["key"] if isinstance(t["key"], bytes) else t["key"].encode()
        if "slices" in t:
            pairs.append((key, entry_proto(DT[t["dtype"]][0], t["shape"], 0, 0, 0, 0,
                                           slices=t["slices"])))
            continue
        sh = t.get("shard", 0)
        if "strings" in t:
            data, c = string_payload(t["strings"])
            dtype = 7
        else:
            data = t["data"]
            dtype = DT[t["dtype"]][0]
            if big:
                data = swap(data, DT[t["dtype"]][2])
            c = crc32c(data)
        off = len(shards[sh])
        shards[sh] += data
        pairs.append((key, entry_proto(dtype, t["shape"], sh, off, t.get("size", len(data)), mask(c),
                                       t.get("extra", b""))))
    pairs += raw_entries or []
    if sort:
        pairs.sort()
    hdr = header if header is not None else header_proto(num_shards, big, header_extra, version)
    pairs.insert(0, (b"", hdr))
    with open(prefix + ".index", "wb") as fp:
        fp.write(table(pairs, block_size, snappy))
    for i, s in enumerate(shards):
        with open("%s.data-%05d-of-%05d" % (prefix, i, num_shards), "wb") as fp:
            fp.write(bytes(s))
    return pairs


def sha(b):
    return hashlib.sha256(b).hexdigest()


# ---- real bundles -------------------------------------------------------------------------------
REAL = [("tfckpt_ttt_subclassed", "tf-checkpoint", ["", "my_checkpoint", "my_checkpoint.index"]),
        ("tfckpt_tf20_tutorial_cp0000", "tf-checkpoint", ["cp-0000.ckpt", "cp-0000.ckpt.index"]),
        ("savedmodel_tcp_actor", "savedmodel", ["", "variables/variables"])]
for name, fmt, paths in REAL:
    exp = json.load(open(os.path.join(fixtures, "expected", name + ".json")))
    ck = exp["checkpoints"][0]
    for rel in paths:
        path = os.path.join(fixtures, name, rel) if rel else os.path.join(fixtures, name)
        rec("OPEN", path, "OK", "-")
        rec("FORMAT", fmt if rel == "" or fmt == "tf-checkpoint" else "tf-checkpoint")
        rec("NTENSORS", len(ck["entries"]))
        for e in ck["entries"]:
            if e["dtype"] == "string":
                rec("STRS", e["key"], "OK", "-", ",".join(map(str, e["string_element_lengths"])), "-")
            else:
                rec("READ", e["key"], "OK", "-", e["sha256"], e["dtype"])
        if name == "tfckpt_ttt_subclassed":
            rec("GRAPH", 10, "common,actor,critic")
            rec("NLAYERS", 3)
            rec("LAYER", 0, "actor", "bias,kernel")
        rec("GRAPHKEYS")
    rec("FLIP", os.path.join(fixtures, name, paths[-1] if paths[-1].endswith(".index") else paths[-1] + ".index"), 300)

# ---- synthetic bundles --------------------------------------------------------------------------
random.seed(7)
W = [0.5, -1.25, 3.0, 4.5, -0.0, 1e-3]
GOOD = [
    {"key": "dense/kernel/.ATTRIBUTES/VARIABLE_VALUE", "dtype": "float32", "shape": [2, 3], "data": le_bytes("float32", W)},
    {"key": "dense/bias/.ATTRIBUTES/VARIABLE_VALUE", "dtype": "float64", "shape": [3], "data": le_bytes("float64", [1, 2, 3])},
    {"key": "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE", "dtype": "int64", "shape": [], "data": le_bytes("int64", [-7])},
    {"key": "mask/.ATTRIBUTES/VARIABLE_VALUE", "dtype": "bool", "shape": [3], "data": bytes([1, 0, 1])},
    {"key": "half/.ATTRIBUTES/VARIABLE_VALUE", "dtype": "float16", "shape": [2], "data": le_bytes("float16", [1.5, -2])},
    {"key": "dense/.ATTRIBUTES/OBJECT_CONFIG_JSON", "dtype": "string", "shape": [], "strings": [b'{"a": 1}']},
    {"key": "names", "dtype": "string", "shape": [3], "strings": [b"", b"x\0y", b"z" * 300]},
]


def expect_good(path, fmt="tf-checkpoint", layers=True):
    rec("OPEN", path, "OK", "-")
    rec("FORMAT", fmt)
    rec("NTENSORS", len(GOOD))
    for t in GOOD:
        if "strings" in t:
            rec("STRS", t["key"], "OK", "-", ",".join(str(len(s)) for s in t["strings"]), sha(b"".join(t["strings"])))
        else:
            rec("READ", t["key"], "OK", "-", sha(t["data"]), t["dtype"])
    if layers:
        rec("NLAYERS", 3)
        rec("LAYER", 0, "dense", "OBJECT_CONFIG_JSON,bias,kernel")


def case(name, tensors=GOOD, **kw):
    p = os.path.join(tmp, name)
    write_bundle(p, tensors, **kw)
    return p


expect_good(case("good"))
expect_good(case("good") + ".index")
expect_good(case("big", big=True))
expect_good(case("snappy", snappy=True, block_size=64))
expect_good(case("smallblocks", block_size=16))
two = [dict(t, shard=i % 2) for i, t in enumerate(GOOD)]
expect_good(case("two_shards", two, num_shards=2))
unk = [dict(t, extra=f_varint(15, 99) + f_bytes(20, b"junk") + f_fixed32(21, 5) + varint(22 << 3 | 1) + b"\0" * 8)
       for t in GOOD]
expect_good(case("unknown_fields", unk, header_extra=f_varint(9, 3) + f_bytes(10, b"x")))
# a checkpoint directory whose state file names the prefix with escapes
d = os.path.join(tmp, "ckdir")
os.makedirs(d, exist_ok=True)
write_bundle(os.path.join(d, 'we"ird\\name'), GOOD)
with open(os.path.join(d, "checkpoint"), "w") as fp:
    fp.write('model_checkpoint_path: "we\\"ird\\\\name"\nall_model_checkpoint_paths: "we\\"ird\\\\name"\n')
expect_good(d)
# a SavedModel directory
d = os.path.join(tmp, "sm")
os.makedirs(os.path.join(d, "variables"), exist_ok=True)
open(os.path.join(d, "saved_model.pb"), "wb").close()
write_bundle(os.path.join(d, "variables", "variables"), GOOD)
expect_good(d, "savedmodel")
d = os.path.join(tmp, "sm_novars")
os.makedirs(d, exist_ok=True)
open(os.path.join(d, "saved_model.pb"), "wb").close()
rec("OPEN", d, "EFORMAT", "without variables")
d = os.path.join(tmp, "emptydir")
os.makedirs(d, exist_ok=True)
rec("OPEN", d, "EFORMAT", "neither a SavedModel")

# a partitioned variable: rows [0, 2) and [2, 3) of a 3x2 tensor, slice entries under TF's slice keys
full = list(range(6))
sl = [[(0, 2), (0, -1)], [(2, 1), (0, -1)]]
parts = [{"key": slice_key(b"part/.ATTRIBUTES/VARIABLE_VALUE", s), "dtype": "int32",
          "shape": [2, 2] if i == 0 else [1, 2], "data": le_bytes("int32", full[:4] if i == 0 else full[4:])}
         for i, s in enumerate(sl)]
p = case("sliced", [{"key": "part/.ATTRIBUTES/VARIABLE_VALUE", "dtype": "int32", "shape": [3, 2], "slices": sl}] + parts)
rec("OPEN", p, "OK", "-")
rec("NTENSORS", 1)
rec("READ", "part/.ATTRIBUTES/VARIABLE_VALUE", "OK", "-", sha(le_bytes("int32", full)), "int32")
p = case("sliced_gap", [{"key": "part/.ATTRIBUTES/VARIABLE_VALUE", "dtype": "int32", "shape": [3, 2],
                         "slices": [sl[0]]}] + parts[:1])
rec("OPEN", p, "OK", "-")
rec("READ", "part/.ATTRIBUTES/VARIABLE_VALUE", "EFORMAT", "do not cover", "-", "-")
p = case("sliced_missing", [{"key": "part/.ATTRIBUTES/VARIABLE_VALUE", "dtype": "int32", "shape": [3, 2],
                             "slices": sl}] + parts[:1])
rec("OPEN", p, "OK", "-")
rec("READ", "part/.ATTRIBUTES/VARIABLE_VALUE", "EFORMAT", "slice 1 is missing", "-", "-")

# corrupt tables
good = open(os.path.join(tmp, "good.index"), "rb").read()


def variant(name, data, code, sub):
    p = os.path.join(tmp, name)
    with open(p + ".index", "wb") as fp:
        fp.write(data)
    os.symlink(os.path.join(tmp, "good.data-00000-of-00001"), p + ".data-00000-of-00001")
    rec("OPEN", p, code, sub)


variant("badmagic", good[:-1] + b"\0", "EFORMAT", "bad table magic")
variant("truncated", good[:-10], "EFORMAT", "bad table magic")
variant("tiny", good[:20], "EFORMAT", "shorter than a table footer")
flip = bytearray(good)
flip[30] ^= 0x10
variant("blockflip", bytes(flip), "EFORMAT", "block checksum mismatch")
# the index handle pointing past the footer
bad = bytearray(good)
foot = len(good) - 48
variant("farhandle", bytes(good[:foot]) + varint(0) + varint(8) + varint(1 << 40) + varint(8) +
        b"\0" * (40 - len(varint(0) + varint(8) + varint(1 << 40) + varint(8))) + good[-8:], "EFORMAT", "outside the table")
variant("hugevarint", bytes(good[:foot]) + b"\xff" * 40 + good[-8:], "EFORMAT", "bad block handle")

# hostile entries
F1 = GOOD[0]


def one(name, code, sub, tensors=None, **kw):
    p = case(name, tensors or [F1], **kw)
    rec("OPEN", p, code, sub)
    return p


one("size_mismatch", "EFORMAT", "invalid size", [dict(F1, size=20)])
one("group", "EFORMAT", "group", [dict(F1, extra=varint(9 << 3 | 3))])
one("overlong", "EFORMAT", "corrupt entry", [dict(F1, extra=b"\x78" + b"\xff" * 10 + b"\x01")])
one("rank9", "ELIMIT", "more than 8 dims", [dict(F1, shape=[1] * 9)])
one("shard_range", "EFORMAT", "shard_id", [dict(F1, shard=1)], num_shards=2, header=header_proto(1))
one("endian2", "EFORMAT", "unknown endianness", header=f_varint(1, 1) + f_varint(2, 2))
one("newer", "EFORMAT", "newer", version=f_varint(1, 1) + f_varint(2, 5))
one("badconsumer", "EFORMAT", "bad_consumers", version=f_varint(1, 1) + f_varint(3, 1))
one("noshards", "EFORMAT", "num_shards", header=f_bytes(3, f_varint(1, 1)))
one("unknownrank", "EFORMAT", "unknown rank", [dict(F1, shape=[], extra=f_bytes(2, f_varint(3, 1)))])
one("negdim", "EFORMAT", "dim of size", [dict(F1, shape=[], extra=f_bytes(2, f_bytes(2, f_varint(1, (1 << 64) - 1))))])
p = os.path.join(tmp, "noheader")
with open(p + ".index", "wb") as fp:
    fp.write(table([(b"a", entry_proto(1, [1], 0, 0, 4, 0))]))
rec("OPEN", p, "EFORMAT", "no bundle header")
p = os.path.join(tmp, "unordered")
with open(p + ".index", "wb") as fp:
    fp.write(table([(b"", header_proto()), (b"b", entry_proto(1, [1], 0, 0, 4, 0)),
                    (b"a", entry_proto(1, [1], 0, 0, 4, 0))], block_size=1))  # one key per block
rec("OPEN", p, "EFORMAT", "keys out of order")
p = os.path.join(tmp, "unordered1")
with open(p + ".index", "wb") as fp:
    fp.write(table([(b"", header_proto()), (b"b", entry_proto(1, [1], 0, 0, 4, 0)),
                    (b"a", entry_proto(1, [1], 0, 0, 4, 0))]))
rec("OPEN", p, "EFORMAT", "corrupt table")
# a Snappy block claiming a huge uncompressed length
p = os.path.join(tmp, "snappybomb")
body = varint(1 << 28) + b"\0"  # 256 MiB, above the 64 MiB default limit
blk = body + b"\x01" + struct.pack("<I", mask(crc32c(body + b"\x01")))
idx_off = len(blk)
ib = block([(b"\xff", varint(0) + varint(len(body)))], 1)
idx = ib + b"\0" + struct.pack("<I", mask(crc32c(ib + b"\0")))
h = varint(idx_off) + varint(len(ib))
foot = (varint(idx_off) + varint(len(ib)) + h).ljust(40, b"\0") + struct.pack("<II", 0x8B80FB57, 0xDB477524)
with open(p + ".index", "wb") as fp:
    fp.write(blk + idx + foot)
rec("OPEN", p, "ELIMIT", "decompresses to")

# data problems, found at read time
p = case("datatrunc")
with open(p + ".data-00000-of-00001", "r+b") as fp:
    fp.truncate(10)
rec("OPEN", p, "OK", "-")
rec("READ", F1["key"], "EFORMAT", "past the end", "-", "-")
p = case("dataflip")
with open(p + ".data-00000-of-00001", "r+b") as fp:
    fp.seek(2)
    b = fp.read(1)
    fp.seek(2)
    fp.write(bytes([b[0] ^ 1]))
rec("OPEN", p, "OK", "-")
rec("READ", F1["key"], "EFORMAT", "CRC mismatch", "-", "-")
p = one("farofs", "OK", "-", [F1], raw_entries=[(b"zfar", entry_proto(1, [2], 0, 1 << 60, 8, 0))])
rec("READ", "zfar", "EFORMAT", "past the end", "-", "-")
p = one("complex", "OK", "-", [F1], raw_entries=[(b"zc", entry_proto(8, [1], 0, 0, 8, 0))])
rec("READ", "zc", "EDTYPE", "complex64", "-", "-")
rec("STRS", F1["key"], "EDTYPE", "not a string tensor", "-", "-")
S = {"key": "s", "dtype": "string", "shape": [2], "strings": [b"ab", b"c"]}
p = case("strcrc", [S])
data = bytearray(open(p + ".data-00000-of-00001", "rb").read())
data[2] ^= 0xFF  # the lengths' checksum
open(p + ".data-00000-of-00001", "wb").write(bytes(data))
rec("OPEN", p, "OK", "-")
rec("STRS", "s", "EFORMAT", "CRC mismatch in the string lengths", "-", "-")
p = case("strbody", [S])
data = bytearray(open(p + ".data-00000-of-00001", "rb").read())
data[-1] ^= 0x01
open(p + ".data-00000-of-00001", "wb").write(bytes(data))
rec("OPEN", p, "OK", "-")
rec("STRS", "s", "EFORMAT", "CRC mismatch", "-", "-")
# an object graph with an out-of-range node id
g = f_bytes(1, f_bytes(1, f_varint(1, 5) + f_bytes(2, b"x")))
p = case("badgraph", [{"key": "_CHECKPOINTABLE_OBJECT_GRAPH", "dtype": "string", "shape": [], "strings": [g]}])
rec("OPEN", p, "OK", "-")
rec("GRAPH", -1, "node id out of range")
rec("END")
print("\n".join(out))
