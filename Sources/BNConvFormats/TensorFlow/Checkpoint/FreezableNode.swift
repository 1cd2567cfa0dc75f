import BNConvInterop

/// One node of a graph being frozen: what it is now (name, op, inputs, attributes) and, for a node
/// read from a file, its NodeDef message as read, so that an untouched node is written back byte
/// for byte and an edited one keeps every field the edit does not name.
struct FreezableNode {
    /// The name.
    var name: String
    /// The op.
    var op: String
    /// The inputs (data inputs first, then control inputs "^x").
    var inputs: [String]
    /// The attributes as read (for reading; edits go to `setAttributes`/`removedAttributes`).
    var attributes: [(key: String, value: ProtobufAttrValue)]
    /// The device as read.
    var device: String
    /// The NodeDef message as read; nil for a node made here (written from the fields above).
    let message: [UInt8]?
    /// The name, op and inputs the message holds.
    private let read: (name: String, op: String, inputs: [String])?
    /// Attributes to set when written.
    var setAttributes: [(key: String, value: ProtobufAttrValue)] = []
    /// Attributes to remove when written.
    var removedAttributes: [String] = []
    /// For a variable made a constant: its value, read when the node is written (its `value`).
    var pendingValue: FrozenValue?

    /// A node read from a file as `def`, whose message bytes are `message`.
    init(_ def: ProtobufNodeDef, message: [UInt8]) {
        name = def.name
        op = def.op
        inputs = def.inputs
        attributes = def.attributes
        device = def.device
        self.message = message
        read = (def.name, def.op, def.inputs)
    }

    /// A node made here.
    init(name: String, op: String, inputs: [String], attributes: [(key: String, value: ProtobufAttrValue)]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.attributes = attributes
        device = ""
        message = nil
        read = nil
    }

    /// A `Const` named `name` whose `value` is read from `value` when written.
    init(constant name: String, value: FrozenValue) {
        self.init(name: name, op: "Const", inputs: [], attributes: [("dtype", .type(value.dtype))])
        pendingValue = value
    }

    /// The value of attribute `key` as read or set.
    func attribute(_ key: String) -> ProtobufAttrValue? {
        if let set = setAttributes.last(where: { $0.key == key }) { return set.value }
        if removedAttributes.contains(key) { return nil }
        return attributes.first { $0.key == key }?.value
    }

    /// Sets attribute `key` when the node is written.
    mutating func set(_ key: String, _ value: ProtobufAttrValue) {
        setAttributes.removeAll { $0.key == key }
        setAttributes.append((key, value))
    }

    /// The data inputs, parsed.
    var dataInputs: [TensorReference] { inputs.compactMap(TensorReference.init) }

    /// The NodeDef message to write.
    func encoded() throws -> [UInt8] {
        guard let message, let read else {
            var attrs = attributes.filter { a in !removedAttributes.contains(a.key) && !setAttributes.contains { $0.key == a.key } }
            attrs += setAttributes
            if let pendingValue { attrs.append(("value", .tensor(try pendingValue.load()))) }
            return ProtobufNodeDefBytes.encode(ProtobufNodeDef(name: name, op: op, inputs: inputs, device: device, attributes: attrs))
        }
        if read.name == name, read.op == op, read.inputs == inputs, setAttributes.isEmpty, removedAttributes.isEmpty { return message }
        guard let edited = ProtobufNodeDefBytes.edit(message, name: read.name == name ? nil : name, op: read.op == op ? nil : op,
                                                     inputs: read.inputs == inputs ? nil : inputs,
                                                     attributes: setAttributes, removing: removedAttributes) else {
            throw FreezeError("node '\(name)' could not be re-encoded")
        }
        return edited
    }
}
