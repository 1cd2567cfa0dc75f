import BNConvCore
import BNConvModel

/// A group of element-wise nodes computed from one value only (and scalar constants), whose only
/// value read elsewhere is their last: what ``FusionPlan`` runs as an ``ElementProgram`` in the
/// epilogue of the step that writes the value.
///
/// The nodes taken: activations (not softmax), Keras `Rescaling` by scalars (tf.keras's swish
/// scales its input by `beta`), op-library `Add`/`Sub`/`Mul`/`Div`/`Min`/`Max` of
/// two values of the group or of one and a float32 scalar constant, and Keras merges
/// (`Add`/`Subtract`/`Multiply`/`Maximum`/`Minimum`) of two values of the group. The group may
/// branch and join (`x * clip(x + 3, 0, 6)` reads `x` twice); every value but the last must be
/// read only inside it, and none may be a model output but the last.
struct ElementRegion {
    /// The steps taken, in order.
    let steps: [Int]
    /// What they compute, on the start value as register 0.
    let program: ElementProgram
    /// The value the last step writes.
    let output: String

    /// Most nodes one region takes.
    static let maxSteps = 48

    /// The largest region starting at `start` (written by step `head`), or `nil` when not even one
    /// node qualifies. `readers` lists each value's reading steps.
    init?(from start: String, head: Int, nodes: [Node], readers: [String: [Int]], outputs: Set<String>, model: Model) {
        // Grow in step order: a node joins when it is expressible and reads only the group.
        var members: [(step: Int, instruction: Instruction)] = []
        var inGroup: Set<String> = [start]
        var pending = Set(readers[start] ?? [])
        var seen: Set<Int> = []
        while let i = pending.min(), members.count < Self.maxSteps {
            pending.remove(i)
            seen.insert(i)
            guard i > head, let instruction = Self.instruction(nodes[i], inGroup: inGroup, model: model) else { continue }
            members.append((i, instruction))
            let out = nodes[i].outputs[0]
            inGroup.insert(out)
            for r in readers[out] ?? [] where !seen.contains(r) { pending.insert(r) }
        }
        // The longest prefix whose only value read outside it is its last.
        var chosen = 0
        var taken: Set<Int> = []
        var escaping: [String: Int] = [:]   // value -> readers outside the prefix (or 1 for a model output)
        func outsideReaders(_ value: String) -> Int {
            (readers[value] ?? []).filter { !taken.contains($0) }.count + (outputs.contains(value) ? 1 : 0)
        }
        escaping[start] = outsideReaders(start)
        for (k, member) in members.enumerated() {
            taken.insert(member.step)
            for v in Set(nodes[member.step].inputs) where escaping[v] != nil { escaping[v] = outsideReaders(v) }
            let out = nodes[member.step].outputs[0]
            escaping[out] = outsideReaders(out)
            let open = escaping.filter { $0.value > 0 }
            if open.count == 1, open.first?.key == out { chosen = k + 1 }
        }
        guard chosen > 0 else { return nil }
        // Compile: register 0 is the start, then one register per member's output.
        var register: [String: Int] = [start: 0]
        var program: [ElementProgram.Step] = []
        for (k, member) in members.prefix(chosen).enumerated() {
            let into = k + 1
            func operand(_ o: Operand) -> ElementProgram.Operand {
                switch o {
                case .value(let name): return .register(register[name]!)
                case .constant(let c): return .constant(c)
                }
            }
            switch member.instruction {
            case let .arithmetic(op, a, b): program.append(.arithmetic(op, operand(a), operand(b), into: into))
            case let .activation(activation, name): program.append(.activation(activation, register[name]!, into: into))
            case let .affine(scale, offset, name):
                // As ``RescalingKernel`` computes it: `x * scale + offset`, two float32 roundings.
                program.append(.arithmetic(.multiply, .register(register[name]!), .constant(scale), into: into))
                program.append(.arithmetic(.add, .register(into), .constant(offset), into: into))
            }
            register[nodes[member.step].outputs[0]] = into
        }
        steps = members.prefix(chosen).map(\.step)
        output = nodes[steps.last!].outputs[0]
        self.program = ElementProgram(steps: program, registers: chosen + 1, result: chosen)
    }

    /// An operand before registers are numbered.
    private enum Operand {
        case value(String)
        case constant(Float)
    }

    /// A member's computation before registers are numbered.
    private enum Instruction {
        case arithmetic(ElementProgram.Arithmetic, Operand, Operand)
        case activation(Activation, String)
        /// A Keras `Rescaling` by scalars: `x * scale + offset`.
        case affine(scale: Float, offset: Float, String)
    }

    /// The Keras merges a region takes, as program steps.
    private static let mergeArithmetic: [ElementwiseKind: ElementProgram.Arithmetic] = [
        .add: .add, .subtract: .subtract, .multiply: .multiply, .maximum: .mergeMaximum, .minimum: .mergeMinimum,
    ]
    /// The op-library binary ops a region takes, as program steps.
    private static let opLibraryArithmetic: [String: ElementProgram.Arithmetic] = [
        "Add": .add, "Sub": .subtract, "Mul": .multiply, "Div": .divide, "Min": .minimum, "Max": .maximum,
    ]

    /// What `node` computes when it is expressible on values of the group (and scalar constants).
    private static func instruction(_ node: Node, inGroup: Set<String>, model: Model) -> Instruction? {
        guard node.outputs.count == 1, (model.values[node.outputs[0]]?.dtype ?? .float32) == .float32 else { return nil }
        switch node.op {
        case .activation(let a):
            guard a != .softmax, node.inputs.count == 1, inGroup.contains(node.inputs[0]) else { return nil }
            return .activation(a, node.inputs[0])
        case let .rescaling(scale, offset):
            // Scalars only (a per-channel vector would need the channel of each element).
            guard scale.count == 1, offset.count == 1, node.inputs.count == 1, inGroup.contains(node.inputs[0]) else { return nil }
            return .affine(scale: Float(scale[0]), offset: Float(offset[0]), node.inputs[0])
        case .elementwise(let kind):
            guard let op = mergeArithmetic[kind], node.inputs.count == 2, node.inputs.allSatisfy(inGroup.contains) else { return nil }
            return .arithmetic(op, .value(node.inputs[0]), .value(node.inputs[1]))
        case .tensor(let t):
            guard let op = opLibraryArithmetic[t.type], t.arguments.count == 2 else { return nil }
            var operands: [Operand] = []
            for argument in t.arguments {
                switch argument {
                case .value(let i):
                    guard i >= 0, i < node.inputs.count, inGroup.contains(node.inputs[i]) else { return nil }
                    operands.append(.value(node.inputs[i]))
                case .weight(let role):
                    // A float32 scalar (shape [] or [1]): broadcasting it changes no shape.
                    guard let tensor = node.weight(role)?.tensor, tensor.dtype == .float32, tensor.shape.count <= 1,
                          tensor.count == 1, let value = try? tensor.materialized().floats().first else { return nil }
                    operands.append(.constant(value))
                case .absent:
                    return nil
                }
            }
            guard operands.contains(where: { if case .value = $0 { return true } else { return false } }) else { return nil }
            return .arithmetic(op, operands[0], operands[1])
        default:
            return nil
        }
    }
}
