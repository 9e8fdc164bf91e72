"""Describes a zip archive as Python's zipfile (Keras's reader) sees it, for
spec/c/test_keras_zip.c's writer checks (run with /usr/bin/python3).

Usage: keras_zip_check.py ARCHIVE

Prints `TEST <first bad member or OK>` (zipfile.testzip: every CRC checked), then one line per
member in directory order, space-separated:
  M <name> <compress_type> <flag_bits> <extract_version> <YYYY-MM-DD@hh:mm:ss> <size> <sha256>
    <zip64: 1 when the member has a ZIP64 extra field in its central or local header, else 0>
"""
import hashlib, struct, sys, zipfile

path = sys.argv[1]
with zipfile.ZipFile(path) as z, open(path, "rb") as raw:
    bad = z.testzip()
    print("TEST", "OK" if bad is None else bad)
    for i in z.infolist():
        raw.seek(i.header_offset + 26)
        nlen, elen = struct.unpack("<HH", raw.read(4))
        raw.seek(nlen, 1)
        local_extra = raw.read(elen)

        def has_zip64(extra):
            while len(extra) >= 4:
                tag, size = struct.unpack("<HH", extra[:4])
                if tag == 1:
                    return True
                extra = extra[4 + size:]
            return False

        print("M", i.filename, i.compress_type, i.flag_bits, i.extract_version,
              "%04d-%02d-%02d@%02d:%02d:%02d" % i.date_time, i.file_size,
              hashlib.sha256(z.read(i)).hexdigest(), int(has_zip64(i.extra) or has_zip64(local_extra)))
