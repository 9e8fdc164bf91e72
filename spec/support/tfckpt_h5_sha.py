"""Spec helper: prints `<dataset path>\t<shape>\t<sha256 of raw little-endian C-order bytes>` for
every dataset of an HDF5 file (h5py + numpy only), one per line, in visit order."""
import hashlib
import sys

import h5py
import numpy as np


def main(path):
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                a = np.asarray(obj[()])
                b = a.astype(a.dtype.newbyteorder("<")).tobytes()
                print("%s\t%s\t%s" % (name, "x".join(str(d) for d in a.shape), hashlib.sha256(b).hexdigest()))
        f.visititems(visit)


if __name__ == "__main__":
    main(sys.argv[1])
