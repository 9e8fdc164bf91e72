"""tfbundle_write_check.py — checks a TF checkpoint written by wk_write_tf_checkpoint.

usage: /usr/bin/python3 spec/c/tfbundle_write_check.py PREFIX EXPECT.json [REFERENCE.index]

EXPECT.json (written by spec/c/test_tfbundle_write.c from what it saved):
  {"entries": [{"key_hex": "...", "dtype": "float32", "shape": [3, 4], "sha256": "<LE bytes>"}
              | {"key_hex": "...", "strings_hex": ["...", ...], "rank": 0 | 1}, ...],
   "graph": null | [{"children": [[node_id, "name"], ...],
                     "attributes": [["name", "full_name", "checkpoint_key", optional_restore], ...],
                     "slots": [[original_id, "slot_name", slot_id], ...]}, ...]}

Two independent readings:
  1. ../shared/tools/expected_facts.py (the fixtures' reference reader): every numeric entry's
     CRC verifies, dtype/shape/sha256 as saved, the header is TF's.
  2. This file's own strict parse, from the facts of keras-formats.md §5.2-§5.5 (not from the
     writer's code): block trailers and CRCs, restart arrays (every 16th entry in data blocks,
     every entry in the index, maximal key sharing elsewhere), the block flush rule (262144
     bytes), index keys equal to LevelDB's shortest separator / short successor, the empty
     metaindex, the footer, the exact proto3 bytes of the header and of every entry (defaults
     omitted), the data file (key order, contiguous, no padding), DT_STRING lengths and CRCs,
     and the object graph (decoded and compared, and re-encoded byte for byte).
With REFERENCE.index, the object graph string must also equal that real checkpoint's.
Prints one line per problem; exit status 0 when there is none.
"""
import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "shared", "tools"))
import expected_facts as ef  # noqa: E402

BLOCK_SIZE = 262144
MAGIC = 0xDB4775248B80FB57
DT = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "int64": 9, "bool": 10,
      "bfloat16": 14, "uint16": 17, "float16": 19, "uint32": 22, "uint64": 23}

WIDTH = {"float32": 4, "float64": 8, "int32": 4, "uint8": 1, "int16": 2, "int8": 1, "int64": 8, "bool": 1,
         "bfloat16": 2, "uint16": 2, "float16": 2, "uint32": 4, "uint64": 8}

problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
    return cond


def crc_extend(c, data):
    tab = ef._crc32c_table()
    c ^= 0xFFFFFFFF
    for b in data:
        c = tab[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# ---- protobuf encoding (proto3, defaults omitted) ------------------------------------------
def enc_varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def f_int(field, v):
    return b"" if v == 0 else enc_varint(field << 3) + enc_varint(v)


def f_bytes(field, b):
    return b"" if len(b) == 0 else enc_varint(field << 3 | 2) + enc_varint(len(b)) + b


def f_msg(field, b):
    return enc_varint(field << 3 | 2) + enc_varint(len(b)) + b


def f_fixed32(field, v):
    return b"" if v == 0 else enc_varint(field << 3 | 5) + struct.pack("<I", v)


def entry_bytes(dtype, shape, offset, size, crc):
    shp = b"".join(f_msg(2, f_int(1, d)) for d in shape)
    return f_int(1, dtype) + f_msg(2, shp) + f_int(4, offset) + f_int(5, size) + f_fixed32(6, crc)


def has_values(graph):
    """has_checkpoint_values of each node, as recent TF writes it: a node with attributes or slot
    variables, and every node from which one is reachable through children."""
    has = [bool(n["attributes"] or n["slots"]) for n in graph]
    changed = True
    while changed:
        changed = False
        for i, n in enumerate(graph):
            if not has[i] and any(has[c] for c, _ in n["children"]):
                has[i] = changed = True
    return has


def graph_bytes(graph, with_has=True):
    has = has_values(graph)
    out = b""
    for i, node in enumerate(graph):
        body = b""
        for nid, name in node["children"]:
            body += f_msg(1, f_int(1, nid) + f_bytes(2, name.encode()))
        for name, full, key, opt in node["attributes"]:
            body += f_msg(2, f_bytes(1, name.encode()) + f_bytes(2, full.encode()) + f_bytes(3, key.encode()) +
                          f_int(4, 1 if opt else 0))
        for orig, name, slot in node["slots"]:
            body += f_msg(3, f_int(1, orig) + f_bytes(2, name.encode()) + f_int(3, slot))
        if with_has:
            body += f_msg(5, f_int(1, 1 if has[i] else 0))
        out += f_msg(1, body)
    return out


def graph_has_field5(buf):
    return any(f2 == 5 for fn, _, v in ef.proto_fields(buf) if fn == 1 for f2, _, _ in ef.proto_fields(v))


def decode_graph(buf):
    nodes = []
    for fn, _, v in ef.proto_fields(buf):
        if fn != 1:
            continue
        node = {"children": [], "attributes": [], "slots": []}
        for f2, _, v2 in ef.proto_fields(v):
            d = {f3: v3 for f3, _, v3 in ef.proto_fields(v2)}
            if f2 == 1:
                node["children"].append([d.get(1, 0), d.get(2, b"").decode()])
            elif f2 == 2:
                node["attributes"].append([d.get(1, b"").decode(), d.get(2, b"").decode(), d.get(3, b"").decode(),
                                           bool(d.get(4, 0))])
            elif f2 == 3:
                node["slots"].append([d.get(1, 0), d.get(2, b"").decode(), d.get(3, 0)])
        nodes.append(node)
    return nodes


# ---- LevelDB key shortening, from the comparator's definition --------------------------------
def separator(start, limit):
    n = min(len(start), len(limit))
    i = 0
    while i < n and start[i] == limit[i]:
        i += 1
    if i >= n:
        return start
    if start[i] < 0xFF and start[i] + 1 < limit[i]:
        return start[:i] + bytes([start[i] + 1])
    return start


def successor(key):
    for i, b in enumerate(key):
        if b != 0xFF:
            return key[:i] + bytes([b + 1])
    return key


# ---- the table ------------------------------------------------------------------------------
def varint_at(buf, pos):
    return ef.varint(buf, pos)


def strict_block(data, off, size, interval, what):
    """Entries of one block, checking its trailer, CRC, restarts and key sharing."""
    if not check(off + size + 5 <= len(data), "%s: block past the end of the file" % what):
        return [], []
    blk = data[off:off + size]
    check(data[off + size] == 0, "%s: compression type %d, want 0" % (what, data[off + size]))
    stored = struct.unpack_from("<I", data, off + size + 1)[0]
    check(stored == ef.crc_mask(crc_extend(ef.crc32c(blk), b"\x00")), "%s: block CRC mismatch" % what)
    nrest = struct.unpack_from("<I", blk, size - 4)[0]
    end = size - 4 - 4 * nrest
    restarts = list(struct.unpack_from("<%dI" % nrest, blk, end))
    pos, key, out, offsets, sizes = 0, b"", [], [], []
    while pos < end:
        offsets.append(pos)
        shared, pos = varint_at(blk, pos)
        unshared, pos = varint_at(blk, pos)
        vlen, pos = varint_at(blk, pos)
        new = key[:shared] + blk[pos:pos + unshared]
        i = len(out)
        if i % interval == 0:
            check(shared == 0, "%s: entry %d is a restart point but shares %d bytes" % (what, i, shared))
        else:
            common = 0
            while common < min(len(key), len(new)) and key[common] == new[common]:
                common += 1
            check(shared == common, "%s: entry %d shares %d bytes, the keys share %d" % (what, i, shared, common))
        pos += unshared
        key = new
        out.append((key, blk[pos:pos + vlen]))
        pos += vlen
        sizes.append(pos)
    check(pos == end, "%s: entries overrun the restart array" % what)
    want = [offsets[i] for i in range(0, len(offsets), interval)] or [0]
    check(restarts == want, "%s: restart array %s, want %s" % (what, restarts[:8], want[:8]))
    return out, sizes


def strict_table(path):
    data = open(path, "rb").read()
    check(len(data) >= 48, "index shorter than a footer")
    footer = data[-48:]
    check(struct.unpack_from("<Q", footer, 40)[0] == MAGIC, "bad magic")
    pos = 0
    meta_off, pos = varint_at(footer, pos)
    meta_size, pos = varint_at(footer, pos)
    idx_off, pos = varint_at(footer, pos)
    idx_size, pos = varint_at(footer, pos)
    check(footer[pos:40] == b"\x00" * (40 - pos), "footer padding is not zeros")
    check(idx_off + idx_size + 5 == len(data) - 48, "the index block does not end at the footer")
    check(meta_off + meta_size + 5 == idx_off, "the metaindex does not precede the index block")
    meta, _ = strict_block(data, meta_off, meta_size, 16, "metaindex")
    check(meta == [] and meta_size == 8, "metaindex is not the empty block")
    index, _ = strict_block(data, idx_off, idx_size, 1, "index block")
    entries, blocks, expect_off = [], [], 0
    for n, (sep, handle) in enumerate(index):
        p = 0
        boff, p = varint_at(handle, p)
        bsize, p = varint_at(handle, p)
        check(p == len(handle), "index entry %d: trailing bytes in its handle" % n)
        check(boff == expect_off, "data block %d at %d, want %d (blocks back to back)" % (n, boff, expect_off))
        expect_off = boff + bsize + 5
        got, sizes = strict_block(data, boff, bsize, 16, "data block %d" % n)
        blocks.append((sep, got, sizes))
        entries.extend(got)
    check(expect_off == meta_off, "data blocks do not end at the metaindex")
    for n, (sep, got, sizes) in enumerate(blocks):
        if not got:
            check(False, "data block %d is empty" % n)
            continue
        last = got[-1][0]
        if n + 1 < len(blocks):
            want = separator(last, blocks[n + 1][1][0][0])
            # the flush rule: this block reached the size only with its last entry
            est = lambda k: sizes[k] + 4 * ((k // 16) + 1) + 4  # noqa: E731
            check(est(len(got) - 1) >= BLOCK_SIZE, "data block %d flushed early (%d bytes)" % (n, est(len(got) - 1)))
            check(len(got) < 2 or est(len(got) - 2) < BLOCK_SIZE, "data block %d flushed late" % n)
        else:
            want = successor(last)
        check(sep == want, "index key %d is %r, want %r" % (n, sep[:40], want[:40]))
    keys = [k for k, _ in entries]
    check(all(keys[i] < keys[i + 1] for i in range(len(keys) - 1)), "keys are not strictly increasing")
    return entries, len(blocks)


def reference_graph(index):
    """The raw _CHECKPOINTABLE_OBJECT_GRAPH value of a real checkpoint, after checking that this
    file's encoders give TF's own bytes for its entries and its graph (so they can judge ours)."""
    shard = open(index[:-len(".index")] + ".data-00000-of-00001", "rb").read()
    graph_raw = None
    for k, v in ef.read_table(index):
        if k == b"":
            continue
        r = ef.parse_entry(v)
        raw = shard[r["offset"]:r["offset"] + r["size"]]
        check(entry_bytes(r["dtype_enum"], r["shape"], r["offset"], r["size"], r.get("crc32c_masked", 0)) == v,
              "reference %r: the proto3 rules here do not give TF's entry bytes" % k)
        if k == b"_CHECKPOINTABLE_OBJECT_GRAPH":
            graph_raw = raw
            n, pos = ef.varint(raw, 0)
            g = raw[pos + 4:pos + 4 + n]
            check(graph_bytes(decode_graph(g), graph_has_field5(g)) == g,
                  "reference graph: re-encoding does not give TF's bytes")
            if graph_has_field5(g):
                check(graph_bytes(decode_graph(g)) == g, "reference graph: has_checkpoint_values differ from TF's")
    return graph_raw


def main():
    prefix, expect_path = sys.argv[1], sys.argv[2]
    reference = sys.argv[3] if len(sys.argv) > 3 else None
    expect = json.load(open(expect_path))
    data = open(prefix + ".data-00000-of-00001", "rb").read()

    # 1. the reference reader
    facts = ef.tf_checkpoint_facts(prefix + ".index", os.path.basename(prefix))
    check(facts["header"] == {"num_shards": 1, "endianness": "little", "version": {"producer": 1}},
          "header %s" % facts["header"])

    # 2. the strict parse
    entries, nblocks = strict_table(prefix + ".index")
    print("# %d entries in %d data blocks" % (len(entries), nblocks))
    check(entries and entries[0] == (b"", bytes.fromhex("08011a020801")),
          "first entry is not the header \"\" = 08 01 1a 02 08 01")
    want = []
    for e in expect["entries"]:
        want.append((bytes.fromhex(e["key_hex"]), e))
    if expect.get("graph") is not None:
        want.append((b"_CHECKPOINTABLE_OBJECT_GRAPH", {"strings_hex": [graph_bytes(expect["graph"]).hex()],
                                                       "rank": 0, "graph": True}))
    want.sort(key=lambda kv: kv[0])
    got_keys = [k for k, _ in entries[1:]]
    check(got_keys == [k for k, _ in want], "keys %s, want %s" % (got_keys[:5], [k for k, _ in want][:5]))
    check(len(facts["entries"]) == len(entries) - 1, "the reference reader sees %d entries" % len(facts["entries"]))
    offset = 0
    for (key, value), (_, e), fact in zip(entries[1:], want, facts["entries"]):
        name = key.decode("utf-8", "replace")[:60]
        if "strings_hex" in e:
            items = [bytes.fromhex(h) for h in e["strings_hex"]]
            raw = b"".join(enc_varint(len(s)) for s in items)
            c = 0
            for s in items:
                c = crc_extend(c, struct.pack("<Q" if len(s) > 0xFFFFFFFF else "<I", len(s)))
            masked = ef.crc_mask(c)
            raw += struct.pack("<I", masked)
            c = crc_extend(c, struct.pack("<I", masked))
            for s in items:
                raw += s
                c = crc_extend(c, s)
            shape = [len(items)] if e["rank"] == 1 else []
            check(value == entry_bytes(7, shape, offset, len(raw), ef.crc_mask(c)),
                  "%s: entry bytes %s" % (name, value.hex()))
            check(data[offset:offset + len(raw)] == raw, "%s: string data differ" % name)
            check(fact["dtype"] == "string" and fact["shape"] == shape, "%s: reference reader says %s %s" %
                  (name, fact["dtype"], fact["shape"]))
            check(fact.get("string_element_lengths") == [len(s) for s in items],
                  "%s: reference reader's string lengths %s" % (name, fact.get("string_element_lengths")))
            if e.get("graph"):
                check(decode_graph(items[0]) == expect["graph"], "object graph decodes differently")
                if reference is not None:
                    ref = reference_graph(reference)
                    n, pos = ef.varint(ref, 0)
                    g = ref[pos + 4:pos + 4 + n]
                    if graph_has_field5(g):
                        check(ref == raw, "object graph bytes differ from the reference's")
                    else:  # an older TF: no has_checkpoint_values, the rest must be TF's bytes
                        check(graph_bytes(decode_graph(items[0]), False) == g,
                              "object graph bytes (without has_checkpoint_values) differ from the reference's")
            size = len(raw)
        else:
            n = 1
            for d in e["shape"]:
                n *= d
            size = n * WIDTH[e["dtype"]]
            raw = data[offset:offset + size]
            check(value == entry_bytes(DT[e["dtype"]], e["shape"], offset, size, ef.crc_mask(ef.crc32c(raw))),
                  "%s: entry bytes %s" % (name, value.hex()))
            check(hashlib.sha256(raw).hexdigest() == e["sha256"], "%s: data sha256 differs" % name)
            if check(fact["key"] == key.decode("utf-8", "replace"), "%s: the reference reader's key differs" % name):
                check(fact.get("crc32c_ok") is True, "%s: reference reader: crc32c_ok %s" % (name, fact.get("crc32c_ok")))
                check(fact["dtype"] == e["dtype"] and fact["shape"] == e["shape"],
                      "%s: reference reader says %s %s" % (name, fact["dtype"], fact["shape"]))
                if "sha256" in fact:
                    check(fact["sha256"] == e["sha256"], "%s: reference reader sha256 differs" % name)
                check("error" not in fact, "%s: reference reader: %s" % (name, fact.get("error")))
        offset += size
    check(offset == len(data), "data file holds %d bytes, the entries %d" % (len(data), offset))
    for p in problems[:50]:
        print(p)
    if len(problems) > 50:
        print("... %d problems in all" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
