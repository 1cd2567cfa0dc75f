"""Protobuf wire bytes for crafted ONNX models and TensorFlow GraphDefs, written field by field
(field numbers from the project's schemas/ and the upstream .proto files). Standard library only:
tools/attack/make_attacks.py and tools/bench/graph_scale_bench.py use it."""
import struct


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def ld(field, payload):
    return key(field, 2) + varint(len(payload)) + payload


def vi(field, n):
    return key(field, 0) + varint(n)


def s(field, text):
    return ld(field, text.encode())


# ---------------------------------------------------------------- protobuf: ONNX
def onnx_model(graph, opset=13):
    return vi(1, 8) + ld(8, vi(2, opset)) + ld(7, graph)


def onnx_value_info(name, elem=1, dims=None, typeproto=None):
    if typeproto is None:
        shape = b"".join(ld(1, vi(1, d)) for d in (dims or []))
        typeproto = ld(1, vi(1, elem) + ld(2, shape))
    return s(1, name) + ld(2, typeproto)


def onnx_node(op, inputs, outputs, name="", attrs=b""):
    return b"".join(s(1, i) for i in inputs) + b"".join(s(2, o) for o in outputs) + s(3, name) + s(4, op) + attrs


def deep_typeproto(depth):
    t = ld(1, vi(1, 1))  # tensor_type { elem_type: FLOAT }
    for _ in range(depth):
        t = ld(4, ld(1, t))  # sequence_type { elem_type: t }
    return t


def deep_if_graph(depth):
    g = s(2, "leaf")
    for i in range(depth):
        attr = s(1, "then_branch") + vi(20, 5) + ld(6, g)
        g = ld(1, onnx_node("If", ["c"], [f"y{i}"], f"if{i}", ld(5, attr))) + s(2, f"g{i}")
    return g


def relu_chain(n, name=lambda i: f"n{i}"):
    nodes = bytearray()
    prev = "x"
    for i in range(n):
        out = f"r{i}"
        nodes += ld(1, onnx_node("Relu", [prev], [out], name(i)))
        prev = out
    return bytes(nodes) + s(2, "chain") + ld(11, onnx_value_info("x", dims=[1, 8])) + ld(12, onnx_value_info(prev, dims=[1, 8]))


# ---------------------------------------------------------------- protobuf: GraphDef
def tf_attr(name, value):
    return ld(5, s(1, name) + ld(2, value))


def tf_node(name, op, inputs=(), attrs=b""):
    return ld(1, s(1, name) + s(2, op) + b"".join(s(3, i) for i in inputs) + attrs)


def tf_shape(dims):
    return b"".join(ld(2, vi(1, d)) for d in dims)


def tf_placeholder(name, dims):
    return tf_node(name, "Placeholder", attrs=tf_attr("dtype", vi(6, 1)) + tf_attr("shape", ld(7, tf_shape(dims))))


def tf_splat_const(name, dims):
    tensor = vi(1, 1) + ld(2, tf_shape(dims)) + ld(5, struct.pack("<f", 1.0))
    return tf_node(name, "Const", attrs=tf_attr("dtype", vi(6, 1)) + tf_attr("value", ld(8, tensor)))


def deep_attr_func(depth):
    a = vi(6, 1)  # AttrValue { type: DT_FLOAT }
    for _ in range(depth):
        a = ld(10, s(1, "f") + ld(2, s(1, "a") + ld(2, a)))  # func { name, attr { key, value } }
    return a
