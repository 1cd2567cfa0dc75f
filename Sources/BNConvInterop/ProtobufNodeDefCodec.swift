import CBNConvProto
import CProtobufC
import Foundation
import BNConvCore

/// Converts protobuf-c `tensorflow.NodeDef` trees to Swift copies (``ProtobufNodeDef``) and back,
/// and edits one tree in place.
///
/// Everything it builds is `malloc`'d, so `free_unpacked` can free it like the rest of a tree
/// (docs/formats.md, protobuf-c); nothing hand-built on the stack ever enters a tree.
enum ProtobufNodeDefCodec {
    // MARK: Editing a tree in place

    /// Sets attribute `key` of `node` to `value`, replacing the entry in place or appending one; the
    /// node's other attributes and unknown fields are kept.
    /// Returns the entry's position.
    @discardableResult
    static func setAttribute(of node: UnsafeMutablePointer<Tensorflow__NodeDef>, key: String, to value: ProtobufAttrValue) -> Int {
        for i in 0..<node.pointee.n_attr {
            let entry = node.pointee.attr[i]!
            guard String(cString: entry.pointee.key) == key else { continue }
            if let old = entry.pointee.value { tensorflow__attr_value__free_unpacked(old, nil) }
            entry.pointee.value = build(value)
            return i
        }
        let n = node.pointee.n_attr
        let array = realloc(node.pointee.attr, (n + 1) * MemoryLayout<UnsafeMutablePointer<Tensorflow__NodeDef__AttrEntry>?>.stride)!
        node.pointee.attr = array.assumingMemoryBound(to: UnsafeMutablePointer<Tensorflow__NodeDef__AttrEntry>?.self)
        let e = mallocMessage(Tensorflow__NodeDef__AttrEntry.self) { tensorflow__node_def__attr_entry__init($0) }
        e.pointee.key = mallocString(key)
        e.pointee.value = build(value)
        node.pointee.attr[n] = e
        node.pointee.n_attr = n + 1
        return n
    }

    /// Replaces the input list of `node`.
    static func setInputs(of node: UnsafeMutablePointer<Tensorflow__NodeDef>, to inputs: [String]) {
        for i in 0..<node.pointee.n_input { free(node.pointee.input[i]) }
        free(node.pointee.input)
        node.pointee.n_input = inputs.count
        node.pointee.input = mallocStrings(inputs)
    }

    /// Removes the attributes of `node` whose key is in `keys`.
    static func removeAttributes(of node: UnsafeMutablePointer<Tensorflow__NodeDef>, keys: Set<String>) {
        var kept = 0
        for i in 0..<node.pointee.n_attr {
            let entry = node.pointee.attr[i]!
            if keys.contains(String(cString: entry.pointee.key)) {
                protobuf_c_message_free_unpacked(UnsafeMutableRawPointer(entry).assumingMemoryBound(to: ProtobufCMessage.self), nil)
            } else {
                node.pointee.attr[kept] = entry
                kept += 1
            }
        }
        node.pointee.n_attr = kept
    }

    /// Replaces the tensor held by attribute `key` of `node` (a Const's `value`) by one built from
    /// `tensor`; returns the position of the attribute entry, or nil when `node` has no tensor
    /// attribute of that name.
    @discardableResult
    static func setTensor(of node: UnsafeMutablePointer<Tensorflow__NodeDef>, attribute key: String,
                          to tensor: ProtobufTensorProto) -> Int? {
        for i in 0..<node.pointee.n_attr {
            let entry = node.pointee.attr[i]!
            guard String(cString: entry.pointee.key) == key, let value = entry.pointee.value,
                  value.pointee.value_case == TENSORFLOW__ATTR_VALUE__VALUE_TENSOR else { continue }
            if let old = value.pointee.tensor { tensorflow__tensor_proto__free_unpacked(old, nil) }
            value.pointee.tensor = build(tensor)
            return i
        }
        return nil
    }

    // MARK: C -> Swift

    /// The `tensor_content` of an attribute's tensor held outside the tree (cut from it before
    /// protobuf-c unpacked it: ``ProtobufGraphDefFile``).
    enum Content {
        /// Bytes in memory (a view of the file's bytes held in memory, or a copy).
        case copied(ArraySlice<UInt8>)
        /// A range of the file, left there (``ProtobufTensorProto/stored``).
        case stored(Range<Int>)
    }

    /// A Swift copy of `node`. `contents` gives, by attribute position, the `tensor_content` of an
    /// attribute's tensor held elsewhere.
    static func copy(_ node: UnsafeMutablePointer<Tensorflow__NodeDef>, contents: [Int: Content] = [:]) -> ProtobufNodeDef {
        let n = node.pointee
        let inputs = (0..<n.n_input).map { String(cString: n.input[$0]!) }
        var attributes: [(key: String, value: ProtobufAttrValue)] = []
        attributes.reserveCapacity(n.n_attr)
        for i in 0..<n.n_attr {
            let entry = n.attr[i]!.pointee
            var value = entry.value.map { copy($0.pointee) } ?? .unset
            if let content = contents[i], case .tensor(var t) = value {
                switch content {
                case .copied(let bytes): t.content = bytes
                case .stored(let range): t.stored = range
                }
                value = .tensor(t)
            }
            attributes.append((String(cString: entry.key), value))
        }
        return ProtobufNodeDef(name: String(cString: n.name), op: String(cString: n.op), inputs: inputs,
                               device: n.device.map { String(cString: $0) } ?? "", attributes: attributes)
    }

    static func copy(_ v: Tensorflow__AttrValue) -> ProtobufAttrValue {
        switch v.value_case {
        case TENSORFLOW__ATTR_VALUE__VALUE_S: return .bytes(bytes(v.s))
        case TENSORFLOW__ATTR_VALUE__VALUE_I: return .int(v.i)
        case TENSORFLOW__ATTR_VALUE__VALUE_F: return .float(v.f)
        case TENSORFLOW__ATTR_VALUE__VALUE_B: return .bool(v.b != 0)
        case TENSORFLOW__ATTR_VALUE__VALUE_TYPE: return .type(Int32(bitPattern: v.type.rawValue))
        case TENSORFLOW__ATTR_VALUE__VALUE_SHAPE: return .shape(v.shape.flatMap(dims))
        case TENSORFLOW__ATTR_VALUE__VALUE_TENSOR:
            return v.tensor.map { .tensor(copy($0.pointee)) } ?? .unset
        case TENSORFLOW__ATTR_VALUE__VALUE_LIST:
            guard let l = v.list?.pointee else { return .list(ProtobufAttrList()) }
            var list = ProtobufAttrList()
            list.strings = (0..<l.n_s).map { bytes(l.s[$0]) }
            list.ints = array(l.i, l.n_i)
            list.floats = array(l.f, l.n_f)
            list.bools = array(l.b, l.n_b).map { $0 != 0 }
            list.types = array(l.type, l.n_type).map { Int32(bitPattern: $0.rawValue) }
            list.shapes = (0..<l.n_shape).map { l.shape[$0].flatMap(dims) }
            list.otherCount = l.n_tensor + l.n_func
            return .list(list)
        case TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER:
            return .placeholder(v.placeholder.map { String(cString: $0) } ?? "")
        case TENSORFLOW__ATTR_VALUE__VALUE_FUNC:
            return .function(v.func?.pointee.name.map { String(cString: $0) } ?? "")
        default: return .unset
        }
    }

    static func copy(_ t: Tensorflow__TensorProto) -> ProtobufTensorProto {
        var out = ProtobufTensorProto(dtype: Int32(bitPattern: t.dtype.rawValue),
                                      shape: t.tensor_shape.flatMap(dims) ?? [])
        out.content = ArraySlice(bytes(t.tensor_content))
        out.halfValues = array(t.half_val, t.n_half_val)
        out.floatValues = array(t.float_val, t.n_float_val)
        out.doubleValues = array(t.double_val, t.n_double_val)
        out.intValues = array(t.int_val, t.n_int_val)
        out.int64Values = array(t.int64_val, t.n_int64_val)
        out.boolValues = array(t.bool_val, t.n_bool_val).map { $0 != 0 }
        out.hasOtherValues = t.n_string_val + t.n_scomplex_val + t.n_dcomplex_val + t.n_uint32_val
            + t.n_uint64_val + t.float8_val.len > 0
        return out
    }

    /// Dimensions of a shape, or nil for unknown rank.
    static func dims(_ shape: UnsafeMutablePointer<Tensorflow__TensorShapeProto>) -> [Int64]? {
        let s = shape.pointee
        if s.unknown_rank != 0 { return nil }
        return (0..<s.n_dim).map { s.dim[$0]!.pointee.size }
    }

    static func bytes(_ b: ProtobufCBinaryData) -> [UInt8] {
        guard b.len > 0, let data = b.data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: b.len))
    }

    static func array<T>(_ p: UnsafeMutablePointer<T>?, _ n: Int) -> [T] {
        guard n > 0, let p else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    // MARK: Swift -> malloc'd C

    static func mallocString(_ s: String) -> UnsafeMutablePointer<CChar> { strdup(s)! }

    static func mallocStrings(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard !strings.isEmpty else { return nil }
        let p = mallocArray(UnsafeMutablePointer<CChar>?.self, strings.count)
        for (i, s) in strings.enumerated() { p[i] = mallocString(s) }
        return p
    }

    static func mallocArray<T>(_: T.Type, _ n: Int) -> UnsafeMutablePointer<T> {
        malloc(max(1, n) * MemoryLayout<T>.stride)!.assumingMemoryBound(to: T.self)
    }

    static func mallocCopy<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let p = mallocArray(T.self, values.count)
        _ = values.withUnsafeBufferPointer { src in
            UnsafeMutableBufferPointer(start: p, count: values.count).initialize(from: src)
        }
        return p
    }

    static func mallocBinary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        ProtobufCBinaryData(len: bytes.count, data: mallocCopy(bytes))
    }

    /// A `malloc`'d copy of a slice (a bytes field).
    static func mallocBinary(_ bytes: ArraySlice<UInt8>) -> ProtobufCBinaryData {
        guard !bytes.isEmpty else { return ProtobufCBinaryData(len: 0, data: nil) }
        let p = mallocArray(UInt8.self, bytes.count)
        bytes.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    static func mallocMessage<T>(_: T.Type, _ initialize: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let p = malloc(MemoryLayout<T>.stride)!.assumingMemoryBound(to: T.self)
        initialize(p)
        return p
    }

    static func build(_ node: ProtobufNodeDef) -> UnsafeMutablePointer<Tensorflow__NodeDef> {
        let p = mallocMessage(Tensorflow__NodeDef.self) { tensorflow__node_def__init($0) }
        p.pointee.name = mallocString(node.name)
        p.pointee.op = mallocString(node.op)
        if !node.device.isEmpty { p.pointee.device = mallocString(node.device) }
        p.pointee.n_input = node.inputs.count
        p.pointee.input = mallocStrings(node.inputs)
        if !node.attributes.isEmpty {
            let entries = mallocArray(UnsafeMutablePointer<Tensorflow__NodeDef__AttrEntry>?.self, node.attributes.count)
            for (i, attr) in node.attributes.enumerated() {
                let e = mallocMessage(Tensorflow__NodeDef__AttrEntry.self) { tensorflow__node_def__attr_entry__init($0) }
                e.pointee.key = mallocString(attr.key)
                e.pointee.value = build(attr.value)
                entries[i] = e
            }
            p.pointee.n_attr = node.attributes.count
            p.pointee.attr = entries
        }
        return p
    }

    static func build(_ value: ProtobufAttrValue) -> UnsafeMutablePointer<Tensorflow__AttrValue> {
        let p = mallocMessage(Tensorflow__AttrValue.self) { tensorflow__attr_value__init($0) }
        switch value {
        case .bytes(let b): p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_S; p.pointee.s = mallocBinary(b)
        case .int(let i): p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_I; p.pointee.i = i
        case .float(let f): p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_F; p.pointee.f = f
        case .bool(let b): p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_B; p.pointee.b = b ? 1 : 0
        case .type(let t):
            p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_TYPE
            p.pointee.type = Tensorflow__DataType(rawValue: UInt32(bitPattern: t))
        case .shape(let dims):
            p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_SHAPE; p.pointee.shape = build(shape: dims)
        case .tensor(let t): p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_TENSOR; p.pointee.tensor = build(t)
        case .list(let l):
            p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_LIST
            let list = mallocMessage(Tensorflow__AttrValue__ListValue.self) { tensorflow__attr_value__list_value__init($0) }
            list.pointee.n_s = l.strings.count
            list.pointee.s = mallocCopy(l.strings.map(mallocBinary))
            list.pointee.n_i = l.ints.count; list.pointee.i = mallocCopy(l.ints)
            list.pointee.n_f = l.floats.count; list.pointee.f = mallocCopy(l.floats)
            list.pointee.n_b = l.bools.count; list.pointee.b = mallocCopy(l.bools.map { $0 ? 1 : 0 })
            list.pointee.n_type = l.types.count
            list.pointee.type = mallocCopy(l.types.map { Tensorflow__DataType(rawValue: UInt32(bitPattern: $0)) })
            list.pointee.n_shape = l.shapes.count
            list.pointee.shape = mallocCopy(l.shapes.map { Optional(build(shape: $0)) })
            p.pointee.list = list
        case .placeholder(let s):
            p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_PLACEHOLDER; p.pointee.placeholder = mallocString(s)
        case .function(let name):
            p.pointee.value_case = TENSORFLOW__ATTR_VALUE__VALUE_FUNC
            let f = mallocMessage(Tensorflow__NameAttrList.self) { tensorflow__name_attr_list__init($0) }
            f.pointee.name = mallocString(name)
            p.pointee.func = f
        case .unset: break
        }
        return p
    }

    static func build(shape dims: [Int64]?) -> UnsafeMutablePointer<Tensorflow__TensorShapeProto> {
        let s = mallocMessage(Tensorflow__TensorShapeProto.self) { tensorflow__tensor_shape_proto__init($0) }
        guard let dims else { s.pointee.unknown_rank = 1; return s }
        s.pointee.n_dim = dims.count
        s.pointee.dim = mallocCopy(dims.map { size -> UnsafeMutablePointer<Tensorflow__TensorShapeProto__Dim>? in
            let d = mallocMessage(Tensorflow__TensorShapeProto__Dim.self) { tensorflow__tensor_shape_proto__dim__init($0) }
            d.pointee.size = size
            return d
        })
        return s
    }

    static func build(_ t: ProtobufTensorProto) -> UnsafeMutablePointer<Tensorflow__TensorProto> {
        let p = mallocMessage(Tensorflow__TensorProto.self) { tensorflow__tensor_proto__init($0) }
        p.pointee.dtype = Tensorflow__DataType(rawValue: UInt32(bitPattern: t.dtype))
        p.pointee.tensor_shape = build(shape: t.shape)
        p.pointee.tensor_content = mallocBinary(t.content)
        p.pointee.n_half_val = t.halfValues.count; p.pointee.half_val = mallocCopy(t.halfValues)
        p.pointee.n_float_val = t.floatValues.count; p.pointee.float_val = mallocCopy(t.floatValues)
        p.pointee.n_double_val = t.doubleValues.count; p.pointee.double_val = mallocCopy(t.doubleValues)
        p.pointee.n_int_val = t.intValues.count; p.pointee.int_val = mallocCopy(t.intValues)
        p.pointee.n_int64_val = t.int64Values.count; p.pointee.int64_val = mallocCopy(t.int64Values)
        p.pointee.n_bool_val = t.boolValues.count; p.pointee.bool_val = mallocCopy(t.boolValues.map { $0 ? 1 : 0 })
        return p
    }
}
