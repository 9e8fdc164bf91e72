"""Oracle for spec/fixtures_load_spec.lua (run by Debian's /usr/bin/python3 with h5py + numpy).

    fixture_oracle.py FIXTURES_DIR NAME VARIANT OUT_DIR

Reads one real Keras HDF5 file of ../shared/fixtures/real with h5py exactly as Keras's legacy loader does
(keras-formats.md §2: descend into `model_weights` when the root has no `layer_names`; keras_version "1" when
the attribute is absent; backend or None), checks every raw tensor against expected/<NAME>.json (names,
order, shapes, dtypes, sha256), then applies Keras's `preprocess_weights_for_loading` (§3.5) in NumPy for
the TARGET layers described below (written by hand from the manifest / model_config, independently of the
Lua code under test) and prints, one line each (tab-separated):

    F  keras_version|""  backend|""  has_top_level(0|1)
    L  file_layer_name
    W  weight_name  shape  dtype  raw_bin_path          (the file's tensor, raw little-endian bytes)
    E  shape  bin_path  sum  sha256                      (the value Keras assigns, float32 C order)
    C  layer_path  kind                                  (a conversion the oracle applied)

Conversion kinds: keras1_conv2d_channels_first, keras1_gru, keras1_lstm, theano_kernel_flip,
conv_kernel_transpose, cudnn_lstm, cudnn_gru. Exits non-zero (with a message) when the file disagrees with
its expected JSON.
"""
import hashlib
import json
import os
import sys

import h5py
import numpy as np

# --------------------------------------------------------------------------------------------------
# Target layers: only the classes preprocess_weights_for_loading dispatches on need a description; any
# other file layer (Dense, BatchNormalization, Embedding, SimpleRNN ...) is loaded unchanged.
#   conv:  {"class": "Conv2D", "data_format": ..., "kernel": shape of the layer's kernel variable}
#   rnn:   {"class": "LSTM" | "GRU", "reset_after": bool}
#   wrappers: {"class": "TimeDistributed", "layer": desc}, {"class": "Bidirectional", "forward": desc,
#          "backward": desc}
#   nested model: {"class": "Functional", "n_trainable": n, "layers": [ {desc..., "nt": n, "nn": n}, ...]}
#          (sublayers with weights, in model.layers order)
# --------------------------------------------------------------------------------------------------
def conv2d(name, kernel, data_format="channels_last"):
    return {"class": "Conv2D", "name": name, "kernel": kernel, "data_format": data_format}


def dense(name, nt=2):
    return {"class": "Dense", "name": name, "nt": nt, "nn": 0}


K1_CONV = {  # Keras 1 'th' kernels (out, in, kh, kw); the Keras 2 kernel is (kh, kw, in, out)
    "convolution2d_1": (4, 4, 1, 32), "convolution2d_2": (3, 3, 32, 64), "convolution2d_3": (3, 3, 64, 64),
    "convolution2d_4": (3, 3, 64, 128), "convolution2d_5": (3, 3, 128, 200),
}

TARGETS = {
    "k1_theano_deepcell_ecoli_conv_bn_weights.h5": {
        "default": {n: conv2d(n, k, "channels_first") for n, k in K1_CONV.items()},
        # the same file into a channels_last model: Keras's (3, 2, 0, 1) fallback transpose
        "channels_last": {n: conv2d(n, k, "channels_last") for n, k in K1_CONV.items()},
    },
    "k111_chemts_embedding_gru_timedistributed_weights.h5": {
        "default": {
            "gru_1": {"class": "GRU", "reset_after": False},
            "gru_2": {"class": "GRU", "reset_after": False},
            "timedistributed_1": {"class": "TimeDistributed", "layer": dense("dense_1")},
        },
    },
    "k120_behavioral_cloning_conv_full.h5": {
        "default": {
            "convolution2d_1": conv2d("convolution2d_1", (8, 8, 3, 16)),
            "convolution2d_2": conv2d("convolution2d_2", (3, 3, 16, 32)),
            "convolution2d_3": conv2d("convolution2d_3", (5, 5, 32, 32)),
            "convolution2d_4": conv2d("convolution2d_4", (3, 3, 32, 64)),
            "convolution2d_5": conv2d("convolution2d_5", (5, 5, 64, 64)),
        },
    },
    "k206_fml_jettagger_conv2d_bn_weights.h5": {
        "default": {
            "cnn2D_1_relu": conv2d("cnn2D_1_relu", (3, 3, 1, 5)),
            "cnn2D_2_relu": conv2d("cnn2D_2_relu", (5, 5, 5, 2)),
        },
    },
    "k216tf_vae_cnn_nested_weights.h5": {
        "default": {
            "encoder": {"class": "Functional", "n_trainable": 10, "layers": [
                dict(conv2d("conv2d_6", (3, 3, 1, 32)), nt=2, nn=0),
                dict(conv2d("conv2d_7", (3, 3, 32, 64)), nt=2, nn=0),
                dense("dense_2"), dense("z_mean_1"), dense("z_log_var_1")]},
            "decoder": {"class": "Functional", "n_trainable": 8, "layers": [
                dense("dense_3"),
                {"class": "Conv2DTranspose", "name": "conv2d_transpose", "kernel": (3, 3, 64, 64),
                 "data_format": "channels_last", "nt": 2, "nn": 0},
                {"class": "Conv2DTranspose", "name": "conv2d_transpose_1", "kernel": (3, 3, 32, 64),
                 "data_format": "channels_last", "nt": 2, "nn": 0},
                {"class": "Conv2DTranspose", "name": "decoder_output", "kernel": (3, 3, 1, 32),
                 "data_format": "channels_last", "nt": 2, "nn": 0}]},
        },
    },
    "k231_behavioral_cloning_namescope_weights.h5": {
        "default": {
            "Conv2D1": conv2d("Conv2D1", (3, 3, 3, 24)),
            "Conv2D2": conv2d("Conv2D2", (3, 3, 24, 36)),
            "Conv2D3": conv2d("Conv2D3", (3, 3, 36, 48)),
        },
    },
    "k280_lstm3_genre_weights.h5": {
        "default": {n: {"class": "LSTM"} for n in ("lstm", "lstm_1", "lstm_2")},
    },
    "k213_theano_pollution_lstm_full.h5": {
        "default": {"lstm_1": {"class": "LSTM"}},
    },
    "k224_keras2c_functional_lstm_full.h5": {
        "default": {"lstm_1": {"class": "LSTM"}},
    },
    "k260_simplernn_full.h5": {"default": {}},
    "k392_legacy_bidirectional_lstm_full.h5": {
        "default": {"bidirectional": {"class": "Bidirectional",
                                      "forward": {"class": "LSTM", "name": "forward_lstm"},
                                      "backward": {"class": "LSTM", "name": "backward_lstm"}}},
    },
}

CONV_CLASSES = ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "ConvLSTM2D")
notes = []


def note(path, kind):
    notes.append((path, kind))


def convert_kernel(w):
    # conv_utils.convert_kernel: reverse every axis but the last two
    slices = [slice(None, None, -1)] * (w.ndim - 2) + [slice(None), slice(None)]
    return np.copy(w[tuple(slices)])


def rnn_convert(desc, w, path):
    """_convert_rnn_weights for LSTM/GRU targets (3 arrays)."""
    cls = desc["class"]
    if len(w) != 3:
        return w
    units = w[1].shape[0]
    bias = w[2].shape
    n_gates = 4 if cls in ("LSTM", "CuDNNLSTM") else 3

    def from_cudnn_kernels(k, r):
        blocks = np.hsplit(k, n_gates)
        k = np.hstack([b.T.reshape(b.shape, order="F") for b in blocks])
        r = np.hstack([b.T for b in np.hsplit(r, n_gates)])
        return k, r

    if cls == "LSTM":
        if bias == (8 * units,):
            k, r = from_cudnn_kernels(w[0], w[1])
            note(path, "cudnn_lstm")
            return [k, r, np.sum(np.split(w[2], 2, axis=0), axis=0)]
        return w
    if cls == "GRU":
        if bias == (6 * units,):
            if not desc.get("reset_after"):
                raise SystemExit("CuDNNGRU is not compatible with GRU(reset_after=False)")
            k, r = from_cudnn_kernels(w[0], w[1])
            note(path, "cudnn_gru")
            return [k, r, w[2].reshape((2, -1))]
        return w
    return w


def preprocess(desc, w, kv, backend, path):
    cls = desc["class"]
    w = list(w)
    if cls == "Bidirectional":
        h = len(w) // 2
        w = (preprocess(desc["forward"], w[:h], kv, backend, path + "/" + desc["forward"]["name"]) +
             preprocess(desc["backward"], w[h:], kv, backend, path + "/" + desc["backward"]["name"]))
    if cls == "TimeDistributed":
        w = preprocess(desc["layer"], w, kv, backend, path + "/" + desc["layer"]["name"])
    if cls in ("Model", "Sequential", "Functional"):
        t, nt = w[:desc["n_trainable"]], w[desc["n_trainable"]:]
        new_t, new_nt = [], []
        for sub in desc["layers"]:
            out = preprocess(sub, t[:sub["nt"]] + nt[:sub["nn"]], kv, backend, path + "/" + sub["name"])
            new_t += out[:sub["nt"]]
            new_nt += out[sub["nt"]:]
            t, nt = t[sub["nt"]:], nt[sub["nn"]:]
        w = new_t + t + new_nt + nt
    if kv == "1":
        # Keras 1 layouts. (Keras also re-runs the TimeDistributed inner conversion here; for the Dense
        # inside k111 that is a no-op.)
        if cls == "Conv2D" and desc.get("data_format") == "channels_first":
            w[0] = np.transpose(w[0], (2, 3, 1, 0))
            note(path, "keras1_conv2d_channels_first")
        if cls == "GRU" and len(w) == 9:
            w = [np.concatenate([w[0], w[3], w[6]], axis=-1),
                 np.concatenate([w[1], w[4], w[7]], axis=-1),
                 np.concatenate([w[2], w[5], w[8]], axis=-1)]
            note(path, "keras1_gru")
        if cls == "LSTM" and len(w) == 12:
            w = [np.concatenate([w[0], w[6], w[3], w[9]], axis=-1),
                 np.concatenate([w[1], w[7], w[4], w[10]], axis=-1),
                 np.concatenate([w[2], w[8], w[5], w[11]], axis=-1)]
            note(path, "keras1_lstm")
    if cls in CONV_CLASSES:
        if backend == "theano":               # Keras 2.0.9 - 2.3.1, running on TensorFlow
            w[0] = convert_kernel(w[0])
            note(path, "theano_kernel_flip")
        if tuple(desc["kernel"]) != w[0].shape:
            w[0] = np.transpose(w[0], (3, 2, 0, 1))
            note(path, "conv_kernel_transpose")
    if cls in ("LSTM", "GRU"):
        w = rnn_convert(desc, w, path)
    return w


def s(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def sha(a):
    return hashlib.sha256(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()).hexdigest()


def main():
    fixtures, name, variant, out = sys.argv[1:5]
    targets = TARGETS[name][variant]
    with open(os.path.join(fixtures, "expected", name + ".json")) as fh:
        facts = json.load(fh)
    facts = facts.get("weights") or facts["model_weights"]
    f = h5py.File(os.path.join(fixtures, name), "r")
    g = f
    if "layer_names" not in f.attrs and "model_weights" in f:
        g = f["model_weights"]
    kv = s(g.attrs["keras_version"]) if "keras_version" in g.attrs else "1"
    backend = s(g.attrs["backend"]) if "backend" in g.attrs else None
    lines = ["F\t%s\t%s\t%d" % ("" if "keras_version" not in g.attrs else kv, backend or "",
                                 1 if "top_level_model_weights" in g else 0)]
    n = [0]

    def dump(a, dtype=None):
        n[0] += 1
        p = os.path.join(out, "%d.bin" % n[0])
        a = np.ascontiguousarray(a, dtype=dtype or a.dtype.newbyteorder("<"))
        a.tofile(p)
        return p

    layer_names = [s(x) for x in g.attrs["layer_names"]]
    if layer_names != facts["layer_names"]:
        raise SystemExit("layer_names differ from expected JSON")
    for li, ln in enumerate(layer_names):
        lg = g[ln]
        lines.append("L\t" + ln)
        wnames = [s(x) for x in lg.attrs["weight_names"]]
        fl = facts["layers"][li]
        if fl["name"] != ln or fl["weight_names"] != wnames:
            raise SystemExit("weight_names of %s differ from expected JSON" % ln)
        vals = []
        for wi, wn in enumerate(wnames):
            a = lg[wn][()]
            ew = fl["weights"][wi]
            if list(a.shape) != ew["shape"] or a.dtype.name != ew["dtype"] or sha(a) != ew["sha256"]:
                raise SystemExit("tensor %s/%s differs from expected JSON" % (ln, wn))
            vals.append(a)
            lines.append("W\t%s\t%s\t%s\t%s" % (wn, ",".join(map(str, a.shape)), a.dtype.name, dump(a)))
        if ln in targets and vals:
            vals = preprocess(targets[ln], vals, kv, backend, ln)
        for v in vals:
            v = np.ascontiguousarray(v, dtype="<f4")   # batch_set_value: np.asarray(value, variable dtype)
            lines.append("E\t%s\t%s\t%r\t%s" % (",".join(map(str, v.shape)), dump(v, "<f4"),
                                               float(np.sum(v, dtype=np.float64)), sha(v)))
    for path, kind in notes:
        lines.append("C\t%s\t%s" % (path, kind))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
