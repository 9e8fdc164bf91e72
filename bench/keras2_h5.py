"""Keras 2 weights-only HDF5 layout, written and read with h5py the way tf.keras 2.x does it.

Shared by gen_keras2.py (making the benchmark files) and h5py_ops.py (the h5py side of the
benchmark), so that both write exactly the same layout:

  root attrs   layer_names (fixed-length NULLPAD byte strings, chunked into layer_names0.. past
               64512 bytes as Keras's save_attributes_to_hdf5_group does), backend, keras_version
  /<layer>     one group per layer, attr weight_names (same rules)
  /<layer>/<layer>/kernel:0   one contiguous dataset per weight (weight name = relative path)
"""
import numpy as np

HDF5_OBJECT_HEADER_LIMIT = 64512


def save_attributes(group, name, data):
    """Keras's save_attributes_to_hdf5_group, with fixed-length byte strings (numpy 'S')."""
    a = np.asarray(data)
    if a.size == 0:
        group.attrs[name] = np.asarray([], dtype=np.float64)
        return
    k = 1
    chunks = np.array_split(a, k)
    while any(c.nbytes > HDF5_OBJECT_HEADER_LIMIT for c in chunks):
        k += 1
        chunks = np.array_split(a, k)
    if k == 1:
        group.attrs[name] = a
    else:
        for i, c in enumerate(chunks):
            group.attrs["%s%d" % (name, i)] = c


def load_attributes(group, name):
    """Keras's load_attributes_from_hdf5_group (decoded to str)."""
    if name in group.attrs:
        values = group.attrs[name]
    else:
        values, i = [], 0
        while "%s%d" % (name, i) in group.attrs:
            values.extend(group.attrs["%s%d" % (name, i)])
            i += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def write_weights(f, layers):
    """layers: list of (layer_name, [(weight_name, numpy array), ...]) in model order."""
    save_attributes(f, "layer_names", [n.encode("utf8") for n, _ in layers])
    f.attrs["backend"] = np.bytes_(b"tensorflow")
    f.attrs["keras_version"] = np.bytes_(b"2.15.0")
    for name, weights in sorted(layers, key=lambda l: l[0]):  # tf.keras creates them name-sorted
        g = f.create_group(name)
        save_attributes(g, "weight_names", [w.encode("utf8") for w, _ in weights])
        for wname, value in weights:
            d = g.create_dataset(wname, value.shape, dtype=value.dtype)
            if value.ndim == 0:
                d[()] = value
            else:
                d[:] = value
    f.create_group("top_level_model_weights").attrs["weight_names"] = np.asarray([], dtype=np.float64)
