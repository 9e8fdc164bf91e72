"""Expectations and synthetic archives for spec/c/test_keras_zip.c (run with /usr/bin/python3).

Usage: keras_zip_cases.py FIXTURES_DIR TMP_DIR

Prints one record per line, fields separated by tabs, each field percent-quoted:
  FILE <path> <OK or the expected code: EFORMAT, ELIMIT, ...> <error substring or ->
  MEMBER <name> <size> <compressed size> <method>     the central directory, in order
  TEXT <member> <exact content>                       wk_file_read_member gives these bytes
  MSHA <member> <length> <sha256>                     ... of this length and digest
  MERR <member> <code> <substring>                    wk_file_read_member must fail
  TENSOR <dataset path> <sha256>                      a weight of the weights member
  END
Real .keras files: members, metadata.json, config.json and the tensors come from
expected/<name>.json. Synthetic archives are written into TMP_DIR with zipfile, or byte by byte
(raw_zip) where zipfile refuses to write the hostile field.
"""
import hashlib, io, json, os, struct, sys, warnings, zipfile, zlib
from urllib.parse import quote

fixtures, tmp = sys.argv[1], sys.argv[2]
warnings.simplefilter("ignore")  # zipfile warns about the duplicate names written on purpose
out = []


def rec(*fields):
    out.append("\t".join(quote(str(f), safe="") for f in fields))


def sha(b):
    return hashlib.sha256(b).hexdigest()


def put(name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---- the real archives -------------------------------------------------------------------

REAL = ["k315_nested_container.keras", "k2150_windows_backslash_dense.keras", "k392_hybrid_conv1d_bilstm_bn.keras"]
tensors = {}
for name in REAL:
    exp = json.load(open(os.path.join(fixtures, "expected", name + ".json")))
    rec("FILE", os.path.join(fixtures, name), "OK", "-")
    for m in exp["members"]:
        # ground truth: every member of the real files is stored (compressed size = size)
        rec("MEMBER", m["name"], m["size"], m["size"], m["compress_type"])
    rec("TEXT", "metadata.json", json.dumps(exp["metadata"]))
    rec("MSHA", "config.json", exp["config"]["length"], exp["config"]["sha256"])
    tensors[name] = exp["weights_h5"]["weights"]["variables"]
    for v in tensors[name]:
        rec("TENSOR", v["path"], v["sha256"])
    rec("END")

# The members of the smallest real archive, re-packed below in other shapes.
src = zipfile.ZipFile(os.path.join(fixtures, REAL[0]))
meta, config, weights = (src.read(n) for n in ("metadata.json", "config.json", "model.weights.h5"))
tens = tensors[REAL[0]]


def expect_ok(path, members, extra=()):
    rec("FILE", path, "OK", "-")
    for m in members:
        rec("MEMBER", *m)
    rec("TEXT", "metadata.json", meta.decode())
    rec("MSHA", "config.json", len(config), sha(config))
    for r in extra:
        rec(*r)
    for v in tens:
        rec("TENSOR", v["path"], v["sha256"])
    rec("END")


def expect_err(path, code, text, records=()):
    rec("FILE", path, code, text)
    for r in records:
        rec(*r)
    rec("END")


def zipped(entries, compression=zipfile.ZIP_STORED, force_zip64=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for n, d in entries:
            if force_zip64:
                with z.open(n, "w", force_zip64=True) as f:
                    f.write(d)
            else:
                z.writestr(n, d)
    return buf.getvalue()


KERAS = [("metadata.json", meta), ("config.json", config), ("model.weights.h5", weights)]

# deflated members (users recompress archives)
data = zipped(KERAS, zipfile.ZIP_DEFLATED)
infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
expect_ok(put("deflated.keras", data), [(i.filename, i.file_size, i.compress_size, 8) for i in infos])

# ZIP64 extra fields in every local header (zipfile's force_zip64)
expect_ok(put("zip64_local.keras", zipped(KERAS, force_zip64=True)),
          [(n, len(d), len(d), 0) for n, d in KERAS])

# ZIP64 end records: more than 65535 entries
many = [("assets/%05d" % i, b"") for i in range(70000)]
data = zipped(KERAS + many)
rec("FILE", put("zip64_eocd.keras", data), "OK", "-")
rec("TEXT", "assets/69999", "")
for v in tens:
    rec("TENSOR", v["path"], v["sha256"])
rec("END")

# Keras 2.11: variables.h5; backslash member names (Windows); an extra assets member
expect_ok(put("variables.keras", zipped([("metadata.json", meta), ("config.json", config),
                                          ("variables.h5", weights), ("assets\\notes.txt", b"hello")])),
          [("metadata.json", len(meta), len(meta), 0), ("config.json", len(config), len(config), 0),
           ("variables.h5", len(weights), len(weights), 0), ("assets\\notes.txt", 5, 5, 0)],
          [("TEXT", "assets/notes.txt", "hello"), ("TEXT", "assets\\notes.txt", "hello"),
           ("MERR", "assets/nothere", "EINVAL", "no archive member")])

expect_err(put("npz.keras", zipped([("metadata.json", meta), ("config.json", config),
                                     ("model.weights.npz", b"PK")])), "EFORMAT", "npz")
expect_err(put("noweights.keras", zipped([("metadata.json", meta)])), "EFORMAT",
           "a .keras archive without model.weights.h5")
expect_err(put("dotdot.keras", zipped(KERAS + [("../evil", b"x")])), "EFORMAT", '"../evil": a ".." component')
expect_err(put("dotdot_bs.keras", zipped(KERAS + [("assets\\..\\..\\evil", b"x")])), "EFORMAT", "component")
expect_err(put("dup.keras", zipped(KERAS + [("config.json", b"{}")])), "EFORMAT", "two members have the same name")
expect_err(put("dup_bs.keras", zipped(KERAS + [("a/b", b"1"), ("a\\b", b"2")])), "EFORMAT", "appears twice")


# ---- byte-level archives: fields zipfile will not write ---------------------------------

def raw_zip(entries):
    """entries: dicts with name (bytes), payload (bytes as stored), method, size, crc, flags,
    zip64 (sizes in a ZIP64 extra field, 0xFFFFFFFF in the headers)."""
    local, central = b"", b""
    for e in entries:
        name, payload = e["name"], e["payload"]
        size, csize = e.get("size", len(payload)), len(payload)
        crc = e.get("crc", zlib.crc32(payload) if e.get("method", 0) == 0 else 0)
        flags, method = e.get("flags", 0), e.get("method", 0)
        extra = b""
        s32, c32 = size, csize
        if e.get("zip64"):
            extra = struct.pack("<HHQQ", 1, 16, size, csize)
            s32 = c32 = 0xFFFFFFFF
        ver = 45 if e.get("zip64") else 20
        off = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, ver, flags, method, 0, 0x21, crc, c32, s32,
                             len(name), len(extra)) + name + extra + payload
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, ver, ver, flags, method, 0, 0x21, crc, c32,
                               s32, len(name), len(extra), 0, 0, 0, 0o600 << 16, off) + name + extra
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0)
    return local + central + end


def stored(name, data):
    return {"name": name, "payload": data}


RAW_KERAS = [stored(n.encode(), d) for n, d in KERAS]
data = raw_zip(RAW_KERAS)
expect_ok(put("raw_ok.keras", data), [(n, len(d), len(d), 0) for n, d in KERAS])

expect_err(put("absolute.keras", raw_zip(RAW_KERAS + [stored(b"/etc/evil", b"x")])), "EFORMAT", "absolute")
expect_err(put("absolute_bs.keras", raw_zip(RAW_KERAS + [stored(b"\\evil", b"x")])), "EFORMAT", "absolute")
expect_err(put("drive.keras", raw_zip(RAW_KERAS + [stored(b"C:evil", b"x")])), "EFORMAT", "absolute")
expect_err(put("nul.keras", raw_zip(RAW_KERAS + [stored(b"model.weights.h5\0.txt", b"x")])), "EFORMAT", "NUL")
expect_err(put("empty_name.keras", raw_zip(RAW_KERAS + [stored(b"", b"x")])), "EFORMAT", "empty name")
expect_err(put("encrypted.keras", raw_zip(RAW_KERAS + [dict(stored(b"secret", b"x" * 12), flags=1)])),
           "EFORMAT", "encrypt")
expect_err(put("bzip2.keras", raw_zip(RAW_KERAS + [dict(stored(b"b", b"BZh9"), method=12, size=10)])),
           "EFORMAT", "compression method 12")
expect_err(put("stored_lie.keras", raw_zip(RAW_KERAS + [dict(stored(b"s", b"abcdef"), size=3)])),
           "EFORMAT", "stored but declares 3 bytes")

zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
dz = zeros.compress(b"\0" * 1000) + zeros.flush()


def deflated(name, data, **kw):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    payload = c.compress(data) + c.flush()
    e = {"name": name, "payload": payload, "method": 8, "size": len(data), "crc": zlib.crc32(data)}
    e.update(kw)
    return e


# Keras's own rule: more than 4 GiB declared and more than 100x the stored bytes
expect_err(put("bomb_keras.keras", raw_zip(RAW_KERAS + [deflated(b"bomb", b"\0" * 1000, size=5 << 30, zip64=True)])),
           "ELIMIT", "zip bomb")
# ours: a deflated member above max(64 MiB, stored * 1100)
expect_err(put("bomb_ratio.keras", raw_zip(RAW_KERAS + [deflated(b"bomb", b"\0" * 1000, size=100 << 20)])),
           "ELIMIT", "zip bomb")
# the weights member declares more bytes than it inflates to
expect_err(put("weights_short.keras",
               raw_zip(RAW_KERAS[:2] + [deflated(b"model.weights.h5", weights, size=len(weights) + 10)])),
           "EFORMAT", "bytes where %d are declared" % (len(weights) + 10))
# metadata.json inflates to more than declared; config.json's CRC is wrong
bad = raw_zip([deflated(b"metadata.json", meta, size=len(meta) - 5), dict(stored(b"config.json", config),
              crc=zlib.crc32(config) ^ 1), RAW_KERAS[2]])
rec("FILE", put("member_lies.keras", bad), "OK", "-")
rec("MERR", "metadata.json", "EFORMAT", "more than the %d bytes declared" % (len(meta) - 5))
rec("MERR", "config.json", "EFORMAT", "CRC")
rec("END")

# structure: truncated central directory (end record kept), truncated file, bad offsets
good = open(os.path.join(tmp, "raw_ok.keras"), "rb").read()
cd = good.rfind(b"PK\x01\x02")
expect_err(put("cd_truncated.keras", good[:cd + 20] + good[-22:]), "EFORMAT", "cd_truncated.keras")
expect_err(put("file_truncated.keras", good[: len(good) * 2 // 3]), "EFORMAT", "file_truncated.keras")
end = bytearray(good)
struct.pack_into("<I", end, len(end) - 6, len(good) + 1000)  # central directory offset past the end
expect_err(put("cd_offset.keras", bytes(end)), "EFORMAT", "cd_offset.keras")
lh = bytearray(good)
first_cd = good.find(b"PK\x01\x02")
struct.pack_into("<I", lh, first_cd + 42, 7)  # first entry's local header offset: garbage
expect_err(put("lh_offset.keras", bytes(lh)), "EFORMAT", "lh_offset.keras")

print("\n".join(out))
