"""Writes the crafted hostile inputs of issue #21 into a folder, for tools/attack/run_attacks.py.

Each file attacks one weak point of one format: protobuf nesting, splat constants, HDF5 filter
pipelines, zip central directories, Keras config indices, huge declared shapes, long graphs.
Protobuf files are written byte by byte (field numbers from schemas/ and the upstream .proto
files), HDF5 files with h5py, zip files with Python's zipfile plus byte edits.

Usage: python tools/attack/make_attacks.py OUT_DIR  (needs h5py and numpy: the tools venv)
"""
import io
import json
import os
import shutil
import struct
import sys
import zipfile
import zlib

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "Tests", "Fixtures")


from wire import (deep_attr_func, deep_if_graph, deep_typeproto, ld, onnx_model, onnx_node, onnx_value_info, relu_chain, s,
                  tf_attr, tf_node, tf_placeholder, tf_splat_const, varint, vi)


# ---------------------------------------------------------------- Keras HDF5
def keras_config_edit(src, dst, edit):
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        edit(config)
        f.attrs["model_config"] = json.dumps(config)


def layer(config, cls):
    return next(l for l in config["config"]["layers"] if l["class_name"] == cls)


def set_input_shape(config, shape):
    """Sets the spatial dimensions of the first input, keeping its channels."""
    l = config["config"]["layers"][0]
    old = l["config"]["batch_input_shape"]
    l["config"]["batch_input_shape"] = [None] + shape[:-1] + [old[-1]]


def zero_channels(src, dst):
    """bn_conv with the conv's filters and the BN's vectors cut to 0 channels."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        layer(config, "Conv2D")["config"]["filters"] = 0
        f.attrs["model_config"] = json.dumps(config)
        weights = f["model_weights"]

        def cut(name, obj):
            if isinstance(obj, h5py.Dataset):
                shape = list(obj.shape)
                shape[-1] = 0
                parent = obj.parent
                base = name.split("/")[-1]
                dtype = obj.dtype
                del parent[base]
                parent.create_dataset(base, shape=tuple(shape), dtype=dtype)
        items = []
        weights.visititems(lambda n, o: items.append((n, o)) if isinstance(o, h5py.Dataset) else None)
        for n, o in items:
            cut(n, o)


def sparse_gzip(src, dst, count, elements, fill=0.0):
    """A Keras 2 .h5 whose first weighted layer lists `count` extra gzip datasets of `elements`
    float32 each, never written (sparse: only the fill value)."""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        weights = f["model_weights"]
        layer_name = next(n for n in weights.attrs["layer_names"] if len(weights[n].attrs["weight_names"]))
        g = weights[layer_name]
        names = [n if isinstance(n, bytes) else n.encode() for n in g.attrs["weight_names"]]
        base = layer_name.decode() if isinstance(layer_name, bytes) else layer_name
        for i in range(count):
            name = f"{base}/bomb_{i}:0"
            g.create_dataset(name, shape=(elements,), dtype="float32", chunks=(1 << 20,), compression="gzip", fillvalue=fill)
            names.append(name.encode())
        g.attrs["weight_names"] = np.array(names, dtype="S")


# ---------------------------------------------------------------- zip
def zip_with_members(src, dst, extra_count):
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as out:
        for info in z.infolist():
            out.writestr(info, z.read(info.filename))
        for i in range(extra_count):
            out.writestr(f"e/{i}", b"")


def central_record(name, crc, stored, size, offset):
    """A central directory record (APPNOTE.TXT 4.3.12) of a deflated member, then its name."""
    encoded = name.encode()
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, stored, size,
                       len(encoded), 0, 0, 0, 0, 0, offset) + encoded


def rezip(src, method, extra=None):
    """The members of the zip `src` written again with `method`, plus `extra` (name, bytes)
    deflated at the end; the archive's bytes."""
    with zipfile.ZipFile(src) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as out:
        for name, data in members:
            out.writestr(name, data)
        if extra:
            out.writestr(zipfile.ZipInfo(extra[0]), extra[1], compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def zip_truncated_deflate(src, dst):
    """The weights member deflated, its stream cut in half; sizes in both headers say so (the
    compressed size is the cut length), so only the inflater can see the stream never ends."""
    data = bytearray(rezip(src, zipfile.ZIP_DEFLATED))
    # rewrite: find the weights member's local header and cut its compressed data
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        infos = z.infolist()
    out = bytearray()
    central = bytearray()
    for info in infos:
        start = info.header_offset
        n, e = struct.unpack("<HH", data[start + 26:start + 30])
        body = start + 30 + n + e
        comp = data[body:body + info.compress_size]
        if info.filename.endswith(".h5"):
            comp = comp[: len(comp) // 2]
        offset = len(out)
        local = bytearray(data[start:start + 30 + n + e])
        struct.pack_into("<I", local, 18, len(comp))
        out += local + comp
        central += central_record(info.filename, info.CRC, len(comp), info.file_size, offset)
    cd_offset = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(infos), len(infos), len(central), cd_offset, 0)
    open(dst, "wb").write(out)


def zip_shared_entries(src, dst, copies, member_bytes):
    """A .keras whose central directory adds `copies` entries that all point at one deflated
    member of `member_bytes` zeros."""
    data = rezip(src, zipfile.ZIP_STORED, extra=("bomb", b"\0" * member_bytes))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
    eocd = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack("<II", data[eocd + 12:eocd + 20])
    central = bytearray(data[cd_offset:cd_offset + cd_size])
    bomb = infos[-1]
    entries = [central_record(f"bomb{i}", bomb.CRC, bomb.compress_size, bomb.file_size, bomb.header_offset) for i in range(copies)]
    central += b"".join(entries)
    count = len(infos) + copies
    out = data[:cd_offset] + bytes(central) + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), cd_offset, 0)
    open(dst, "wb").write(out)


# The small files Tests/Fixtures/robustness/attacks/ keeps (the rest are large or generated by the
# Swift tests themselves): python tools/attack/make_attacks.py --fixtures
FIXTURE_FILES = [
    "keras-output-index-max.h5", "keras-output-node-1e9.h5", "keras-output-tensor-1e9.h5", "keras-inbound-min.h5",
    "keras-inbound-tensor-max.h5", "keras-zeropad-2e62.h5", "keras-upsample-1e5.h5", "keras-zero-channels.h5",
    "hdf5-sparse-gzip-8x1g.h5", "keras-truncated-deflate.keras",
    "onnx-deep-typeproto-60.onnx", "graphdef-deep-func-60.pb", "graphdef-splat.pb",
]


def main():
    if sys.argv[1:] == ["--fixtures"]:
        import tempfile
        work = tempfile.mkdtemp()
        sys.argv[1:] = [work]
        main()
        target = os.path.join(FIX, "robustness", "attacks")
        os.makedirs(target, exist_ok=True)
        for name in FIXTURE_FILES:
            shutil.copyfile(os.path.join(work, name), os.path.join(target, name))
        shutil.rmtree(work)
        return
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    w = lambda name, data: open(os.path.join(out, name), "wb").write(data)

    # protobuf nesting
    w("onnx-deep-typeproto.onnx", onnx_model(s(2, "g") + ld(13, onnx_value_info("x", typeproto=deep_typeproto(10000)))))
    w("onnx-deep-if.onnx", onnx_model(deep_if_graph(10000)))
    w("graphdef-deep-func.pb", tf_node("n", "NoOp", attrs=tf_attr("f", deep_attr_func(10000))))
    # small ones, just past the depth bound (fuzz seeds)
    w("onnx-deep-typeproto-60.onnx", onnx_model(s(2, "g") + ld(13, onnx_value_info("x", typeproto=deep_typeproto(60)))))
    w("graphdef-deep-func-60.pb", tf_node("n", "NoOp", attrs=tf_attr("f", deep_attr_func(60))))
    # splats
    w("graphdef-splat.pb", tf_placeholder("x", [1, 4]) + tf_splat_const("c", [1, 1, 1, 1 << 30]))
    w("graphdef-splat4.pb", tf_placeholder("x", [1, 4]) + b"".join(tf_splat_const(f"c{i}", [1, 1, 1, 1 << 28]) for i in range(4)))
    # long graphs
    w("onnx-relu-chain-100k.onnx", onnx_model(relu_chain(100000)))
    w("onnx-same-name-100k.onnx", onnx_model(relu_chain(100000, name=lambda i: "same")))
    wide = [f"x{i}" for i in range(100000)]
    w("onnx-wide-concat-100k.onnx", onnx_model(
        ld(1, onnx_node("Concat", wide, ["y"], "cat", ld(5, s(1, "axis") + vi(3, 1) + vi(20, 2)))) + s(2, "g")
        + b"".join(ld(11, onnx_value_info(x, dims=[1, 4])) for x in wide) + ld(12, onnx_value_info("y", dims=[1, 400000]))))
    w("graphdef-wide-addn-100k.pb", b"".join(tf_placeholder(x, [1, 4]) for x in wide)
      + tf_node("sum", "AddN", wide, tf_attr("T", vi(6, 1)) + tf_attr("N", vi(3, len(wide)))))
    w("graphdef-identity-chain-100k.pb", tf_placeholder("x", [1, 4]) + b"".join(
        tf_node(f"i{k}", "Identity", [f"i{k-1}" if k else "x"], tf_attr("T", vi(6, 1))) for k in range(100000)))
    w("graphdef-opaque-chain-100k.pb", tf_placeholder("x", [1, 4]) + b"".join(
        tf_node(f"o{k}", "Unheard", [f"o{k-1}" if k else "x"]) for k in range(100000)))
    w("graphdef-noop-1m.pb", tf_placeholder("x", [1, 4]) + b"".join(tf_node(f"n{k}", "NoOp") for k in range(1000000)))
    # huge declared inputs
    w("graphdef-huge-placeholder.pb", tf_placeholder("x", [1, 50000, 50000, 3]) + tf_node("r", "Relu", ["x"], tf_attr("T", vi(6, 1))))
    w("onnx-huge-conv-input.onnx", onnx_model(
        ld(1, onnx_node("Conv", ["x", "w"], ["y"], "conv")) + s(2, "g")
        + ld(5, ld(1, varint(8) + varint(3) + varint(3) + varint(1)) + vi(2, 1) + s(8, "w") + ld(9, b"\0" * (8 * 3 * 3 * 4)))
        + ld(11, onnx_value_info("x", dims=[1, 3, 3037000500, 3037000500]))
        + ld(12, onnx_value_info("y", dims=[1, 8, 3037000498, 3037000498]))))

    # Keras config indices and shapes
    mini = os.path.join(FIX, "keras", "bn_conv", "keras2.h5")  # the smallest functional Keras 2 fixture
    zoo = os.path.join(FIX, "keras", "layers_zoo", "keras2.h5")
    kc = lambda name, src, edit: keras_config_edit(src, os.path.join(out, name), edit)
    kc("keras-output-index-max.h5", mini, lambda c: c["config"]["output_layers"][0].__setitem__(2, (1 << 63) - 1))
    kc("keras-output-node-1e9.h5", mini, lambda c: c["config"]["output_layers"][0].__setitem__(1, 10 ** 9))
    kc("keras-output-tensor-1e9.h5", mini, lambda c: c["config"]["output_layers"][0].__setitem__(2, 10 ** 9))
    kc("keras-inbound-min.h5", mini, lambda c: c["config"]["layers"][1]["inbound_nodes"][0][0].__setitem__(1, -(1 << 63)))
    kc("keras-inbound-tensor-max.h5", mini, lambda c: c["config"]["layers"][1]["inbound_nodes"][0][0].__setitem__(2, (1 << 63) - 1))
    kc("keras-input-overflow.h5", mini, lambda c: set_input_shape(c, [1 << 32, 1 << 32, 3]))
    kc("keras-input-huge.h5", mini, lambda c: set_input_shape(c, [100000, 100000, 3]))
    kc("keras-zeropad-2e62.h5", zoo, lambda c: layer(c, "ZeroPadding2D")["config"].__setitem__("padding", [[1 << 62, 1 << 62], [1, 1]]))
    kc("keras-zeropad-1e5.h5", zoo, lambda c: layer(c, "ZeroPadding2D")["config"].__setitem__("padding", [[100000, 100000], [100000, 100000]]))
    kc("keras-upsample-1e5.h5", zoo, lambda c: layer(c, "UpSampling2D")["config"].__setitem__("size", [100000, 100000]))
    zero_channels(os.path.join(FIX, "keras", "bn_conv", "keras2.h5"), os.path.join(out, "keras-zero-channels.h5"))
    # HDF5 filter bombs
    sparse_gzip(mini, os.path.join(out, "hdf5-sparse-gzip-8x1g.h5"), 8, 1 << 28)
    sparse_gzip(mini, os.path.join(out, "hdf5-sparse-gzip-3x4g.h5"), 3, (1 << 30) - 1, fill=1.0)
    # zip
    k3 = os.path.join(FIX, "keras", "mini_resnet", "keras3.keras")
    zip_with_members(k3, os.path.join(out, "keras-200k-members.keras"), 200000)
    zip_truncated_deflate(k3, os.path.join(out, "keras-truncated-deflate.keras"))
    zip_shared_entries(k3, os.path.join(out, "keras-shared-entries.keras"), 40, 256 << 20)


if __name__ == "__main__":
    main()
