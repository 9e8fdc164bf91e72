"""Independent reader for specs: decodes a TF checkpoint's _CHECKPOINTABLE_OBJECT_GRAPH with the
table/protobuf helpers of ../shared/tools/expected_facts.py (no weightkit code) and prints JSON:
[{"children": [[node_id, local_name], ...], "attributes": [[name, full_name, checkpoint_key,
optional_restore], ...], "slots": [[original, slot_name, slot_node], ...]}, ...]
Usage: tfckpt_graph.py PREFIX   (reads PREFIX.index and PREFIX.data-00000-of-00001)"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "tools"))
import expected_facts as ef  # noqa: E402


def fields(buf):
    pos, out = 0, []
    while pos < len(buf):
        tag, pos = ef.varint(buf, pos)
        f, wt = tag >> 3, tag & 7
        if wt == 0:
            v, pos = ef.varint(buf, pos)
        elif wt == 2:
            n, pos = ef.varint(buf, pos)
            v, pos = buf[pos:pos + n], pos + n
        elif wt == 5:
            v, pos = buf[pos:pos + 4], pos + 4
        elif wt == 1:
            v, pos = buf[pos:pos + 8], pos + 8
        else:
            raise ValueError("wire type %d" % wt)
        out.append((f, v))
    return out


def main(prefix):
    entries = dict(ef.read_table(prefix + ".index"))
    e = ef.parse_entry(entries[b"_CHECKPOINTABLE_OBJECT_GRAPH"])
    with open(prefix + ".data-00000-of-00001", "rb") as fh:
        data = fh.read()[e["offset"]:e["offset"] + e["size"]]
    n, pos = ef.varint(data, 0)
    pos += 4  # masked crc32c of the lengths
    out = []
    for f, node in fields(data[pos:pos + n]):
        if f != 1:
            continue
        rec = {"children": [], "attributes": [], "slots": []}
        for g, v in fields(node):
            d = dict(fields(v)) if g in (1, 2, 3) else {}
            if g == 1:
                rec["children"].append([d.get(1, 0), d.get(2, b"").decode()])
            elif g == 2:
                rec["attributes"].append([d.get(1, b"").decode(), d.get(2, b"").decode(),
                                          d.get(3, b"").decode(), bool(d.get(4, 0))])
            elif g == 3:
                rec["slots"].append([d.get(1, 0), d.get(2, b"").decode(), d.get(3, 0)])
        out.append(rec)
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
