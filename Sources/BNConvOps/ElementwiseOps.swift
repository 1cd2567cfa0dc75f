import BNConvCore

/// Element-wise ops with NumPy broadcasting: arithmetic (`Add Sub Mul Div Pow`), the variadic
/// `Min Max Sum Mean`, comparisons (`Equal Greater Less GreaterOrEqual LessOrEqual`, bool out),
/// logic (`And Or Xor Not`), `Where`, unary math (`Sqrt Neg Abs Exp Log Reciprocal Floor Ceil
/// Erf Sign`) and the conversions `Cast` and `CastLike`.
///
/// Integers compute in `Int64` and wrap to their width (integer `Div` truncates toward zero as C
/// does; dividing by zero gives 0 rather than trapping); float16 and bfloat16 compute in `Float`
/// and round back after each op.
enum ElementwiseOps {
    /// Builders by ONNX op type.
    static let builders: [String: KernelBuilder] = {
        var all: [String: KernelBuilder] = [:]
        for op in [Arithmetic.add, .subtract, .multiply, .divide] {
            all[op.rawValue] = { a in
                let axis = try legacyBroadcastAxis(a)
                return ClosureKernel { values in
                    let inputs = OpInputs(op.rawValue, values)
                    let x = try inputs.required(0)
                    let y = try aligned(try inputs.required(1), to: x, axis: axis, op: op.rawValue)
                    return [try arithmetic(op, x, y)]
                }
            }
        }
        all["Pow"] = { a in
            let axis = try legacyBroadcastAxis(a)
            return ClosureKernel { values in
                let inputs = OpInputs("Pow", values)
                let x = try inputs.required(0)
                return [try power(x, try aligned(try inputs.required(1), to: x, axis: axis, op: "Pow"))]
            }
        }
        for op in [Arithmetic.minimum, .maximum, .add] {
            let name = op == .add ? "Sum" : op.rawValue
            all[name] = { _ in ClosureKernel { values in [try fold(op, values, name: name)] } }
        }
        all["Mean"] = { _ in ClosureKernel { values in [try mean(values)] } }
        for op in Comparison.allCases {
            all[op.rawValue] = { a in
                let axis = try legacyBroadcastAxis(a)
                return ClosureKernel { values in
                    let inputs = OpInputs(op.rawValue, values)
                    let x = try inputs.required(0)
                    return [try compare(op, x, try aligned(try inputs.required(1), to: x, axis: axis, op: op.rawValue))]
                }
            }
        }
        for op in Logic.allCases {
            all[op.rawValue] = { a in
                let axis = try legacyBroadcastAxis(a)
                return ClosureKernel { values in
                    let inputs = OpInputs(op.rawValue, values)
                    let x = try inputs.required(0)
                    return [try logic(op, x, try aligned(try inputs.required(1), to: x, axis: axis, op: op.rawValue))]
                }
            }
        }
        all["Not"] = { _ in
            ClosureKernel { values in
                let x = try OpInputs("Not", values).required(0)
                guard case .bool(let v) = x.storage else {
                    throw OpError.invalid(op: "Not", problem: "input of type \(x.dtype) (it must be bool)")
                }
                return [HostTensor(dtype: .bool, shape: x.shape, storage: .bool(v.map { !$0 }))]
            }
        }
        for op in UnaryMath.allCases {
            all[op.rawValue] = { _ in ClosureKernel { values in [try unary(op, try OpInputs(op.rawValue, values).required(0))] } }
        }
        all["Where"] = { _ in
            ClosureKernel { values in
                let inputs = OpInputs("Where", values)
                return [try select(try inputs.required(0), try inputs.required(1), try inputs.required(2))]
            }
        }
        all["Cast"] = { a in
            let target: DType
            switch a.values["to"] {
            case .int(let code)?: target = try ONNXDataType.dtype(code: code, op: "Cast")
            case .string(let name)?: target = try ONNXDataType.dtype(name: name, op: "Cast")
            case nil: throw a.invalid("attribute 'to' is missing")
            default: throw a.invalid("attribute 'to' is not a data type")
            }
            return ClosureKernel { values in [cast(try OpInputs("Cast", values).required(0), to: target)] }
        }
        all["CastLike"] = { _ in
            ClosureKernel { values in
                let inputs = OpInputs("CastLike", values)
                return [cast(try inputs.required(0), to: try inputs.required(1).dtype)]
            }
        }
        return all
    }()

    // MARK: - Broadcasting before opset 7

    /// The `axis` of a legacy broadcast (opset 1 to 6, `broadcast=1` with an `axis`: B's axes line
    /// up with A's from `axis` on), or nil when the operands broadcast as NumPy does.
    static func legacyBroadcastAxis(_ a: OpAttributes) throws -> Int? {
        guard a.opset < 7, try a.int("broadcast", 0) != 0 else { return nil }
        return try a.int("axis")
    }

    /// `b` with trailing axes of 1 so that, under NumPy broadcasting, its first axis lines up with
    /// axis `axis` of `a` (unchanged when `axis` is nil).
    static func aligned(_ b: HostTensor, to a: HostTensor, axis: Int?, op: String) throws -> HostTensor {
        guard let axis else { return b }
        let start = try Shapes.axis(axis, rank: a.rank, op: op)
        let trailing = a.rank - start - b.rank
        guard trailing >= 0 else {
            throw OpError.invalid(op: op, problem: "operand of shape \(b.shape) does not fit at axis \(axis) of shape \(a.shape)")
        }
        return b.reshaped(b.shape + Array(repeating: 1, count: trailing))
    }

    // MARK: - Arithmetic

    /// The binary arithmetic ops, by ONNX name.
    enum Arithmetic: String {
        /// a + b.
        case add = "Add"
        /// a - b.
        case subtract = "Sub"
        /// a * b.
        case multiply = "Mul"
        /// a / b (integers truncate toward zero).
        case divide = "Div"
        /// The smaller (NaN if either is NaN).
        case minimum = "Min"
        /// The larger (NaN if either is NaN).
        case maximum = "Max"
    }

    /// `a op b` broadcast, in the operands' dtype (which they must share).
    static func arithmetic(_ op: Arithmetic, _ a: HostTensor, _ b: HostTensor) throws -> HostTensor {
        try sameType(a, b, op: op.rawValue)
        let rows = try BroadcastRows(a.shape, b.shape, op: op.rawValue)
        let storage: HostStorage
        switch (a.storage, b.storage) {
        case let (.float(x), .float(y)): storage = .float(floating(op, x, y, rows))
        case let (.double(x), .double(y)): storage = .double(floating(op, x, y, rows))
        case let (.int(x), .int(y)): storage = .int(integer(op, x, y, rows))
        default: throw OpError.invalid(op: op.rawValue, problem: "operands of type \(a.dtype) are not numbers")
        }
        return HostTensor(dtype: a.dtype, shape: rows.shape, storage: storage)
    }

    /// An error naming `op` unless `a` and `b` have the same dtype.
    static func sameType(_ a: HostTensor, _ b: HostTensor, op: String) throws {
        guard a.dtype == b.dtype else {
            throw OpError.invalid(op: op, problem: "operands of types \(a.dtype) and \(b.dtype) (they must match)")
        }
    }

    /// `op` over floating-point elements.
    static func floating<T: ElementMath>(_ op: Arithmetic, _ x: [T], _ y: [T], _ rows: BroadcastRows) -> [T] {
        switch op {
        case .add: return rows.apply(x, y) { $0 + $1 }
        case .subtract: return rows.apply(x, y) { $0 - $1 }
        case .multiply: return rows.apply(x, y) { $0 * $1 }
        case .divide: return rows.apply(x, y) { $0 / $1 }
        case .minimum: return rows.apply(x, y) { $0 < $1 || $0.isNaN ? $0 : $1 }
        case .maximum: return rows.apply(x, y) { $0 > $1 || $0.isNaN ? $0 : $1 }
        }
    }

    /// `op` over integer elements (wrapping; division truncates toward zero, by zero gives 0).
    static func integer(_ op: Arithmetic, _ x: [Int64], _ y: [Int64], _ rows: BroadcastRows) -> [Int64] {
        switch op {
        case .add: return rows.apply(x, y) { $0 &+ $1 }
        case .subtract: return rows.apply(x, y) { $0 &- $1 }
        case .multiply: return rows.apply(x, y) { $0 &* $1 }
        case .divide: return rows.apply(x, y) { $1 == 0 ? 0 : $0.dividedReportingOverflow(by: $1).partialValue }
        case .minimum: return rows.apply(x, y) { Swift.min($0, $1) }
        case .maximum: return rows.apply(x, y) { Swift.max($0, $1) }
        }
    }

    /// `base ^ exponent` broadcast, in the base's dtype; the exponent may be of another numeric
    /// type (opset 12+). Mixed types compute in Double and convert to the base's type (integers
    /// truncate toward zero).
    static func power(_ base: HostTensor, _ exponent: HostTensor) throws -> HostTensor {
        let rows = try BroadcastRows(base.shape, exponent.shape, op: "Pow")
        let storage: HostStorage
        switch (base.storage, exponent.storage) {
        case (.bool, _), (_, .bool):
            throw OpError.invalid(op: "Pow", problem: "operands of types \(base.dtype) and \(exponent.dtype) (bool is not a number)")
        case let (.float(x), .float(y)) where base.dtype == exponent.dtype:
            storage = .float(rows.apply(x, y) { Float.power($0, $1) })
        case let (.double(x), .double(y)):
            storage = .double(rows.apply(x, y) { Double.power($0, $1) })
        case let (.int(x), .int(y)):
            storage = .int(rows.apply(x, y, integerPower))
        default:
            let values = rows.apply(base.storage.doubles, exponent.storage.doubles) { Double.power($0, $1) }
            return HostTensor(dtype: .float64, shape: rows.shape, storage: .double(values)).converted(to: base.dtype)
        }
        return HostTensor(dtype: base.dtype, shape: rows.shape, storage: storage)
    }

    /// `base ^ exponent` in integers (wrapping); a negative exponent truncates 1 / base^|exponent|
    /// toward zero (0 unless the base is 1 or -1).
    static func integerPower(_ base: Int64, _ exponent: Int64) -> Int64 {
        if exponent < 0 {
            if base == 1 { return 1 }
            if base == -1 { return exponent & 1 == 0 ? 1 : -1 }
            return 0
        }
        var result: Int64 = 1, factor = base, e = exponent
        while e > 0 {
            if e & 1 == 1 { result = result &* factor }
            e >>= 1
            if e > 0 { factor = factor &* factor }
        }
        return result
    }

    // MARK: - Variadic

    /// The given inputs of a variadic op, at least one.
    static func operands(_ values: [HostTensor?], name: String) throws -> [HostTensor] {
        let given = values.compactMap { $0 }
        guard !given.isEmpty else { throw OpError.invalid(op: name, problem: "no inputs") }
        return given
    }

    /// `op` folded over every input, broadcast together (`Min`, `Max`, `Sum`).
    static func fold(_ op: Arithmetic, _ values: [HostTensor?], name: String) throws -> HostTensor {
        let inputs = try operands(values, name: name)
        var result = inputs[0]
        if inputs.count == 1, case .bool = result.storage {
            throw OpError.invalid(op: name, problem: "operands of type bool are not numbers")
        }
        for next in inputs.dropFirst() {
            do { result = try arithmetic(op, result, next) } catch OpError.invalid(_, let problem) {
                throw OpError.invalid(op: name, problem: problem)
            }
        }
        return result
    }

    /// The element-wise mean of every input, broadcast together (floating-point types).
    static func mean(_ values: [HostTensor?]) throws -> HostTensor {
        let inputs = try operands(values, name: "Mean")
        let sum = try fold(.add, values, name: "Mean")
        let n = inputs.count
        switch sum.storage {
        case .float(let v): return HostTensor(dtype: sum.dtype, shape: sum.shape, storage: .float(v.map { $0 / Float(n) }))
        case .double(let v): return HostTensor(dtype: sum.dtype, shape: sum.shape, storage: .double(v.map { $0 / Double(n) }))
        default: throw OpError.invalid(op: "Mean", problem: "operands of type \(sum.dtype) (it must be a floating-point type)")
        }
    }

    // MARK: - Comparison and logic

    /// The comparisons, by ONNX name; each gives a bool tensor.
    enum Comparison: String, CaseIterable {
        /// a == b (NaN equals nothing).
        case equal = "Equal"
        /// a > b.
        case greater = "Greater"
        /// a < b.
        case less = "Less"
        /// a >= b.
        case greaterOrEqual = "GreaterOrEqual"
        /// a <= b.
        case lessOrEqual = "LessOrEqual"
    }

    /// `a op b` broadcast, as bools; the operands share a dtype (bools compare as 0 and 1).
    static func compare(_ op: Comparison, _ a: HostTensor, _ b: HostTensor) throws -> HostTensor {
        try sameType(a, b, op: op.rawValue)
        let rows = try BroadcastRows(a.shape, b.shape, op: op.rawValue)
        let result: [Bool]
        switch (a.storage, b.storage) {
        case let (.float(x), .float(y)): result = ordered(op, x, y, rows)
        case let (.double(x), .double(y)): result = ordered(op, x, y, rows)
        case let (.int(x), .int(y)): result = ordered(op, x, y, rows)
        default: result = ordered(op, a.storage.integers, b.storage.integers, rows)
        }
        return HostTensor(dtype: .bool, shape: rows.shape, storage: .bool(result))
    }

    /// `op` over ordered elements.
    static func ordered<T: Comparable>(_ op: Comparison, _ x: [T], _ y: [T], _ rows: BroadcastRows) -> [Bool] {
        switch op {
        case .equal: return rows.apply(x, y) { $0 == $1 }
        case .greater: return rows.apply(x, y) { $0 > $1 }
        case .less: return rows.apply(x, y) { $0 < $1 }
        case .greaterOrEqual: return rows.apply(x, y) { $0 >= $1 }
        case .lessOrEqual: return rows.apply(x, y) { $0 <= $1 }
        }
    }

    /// The binary logical ops on bools, by ONNX name.
    enum Logic: String, CaseIterable {
        /// a and b.
        case and = "And"
        /// a or b.
        case or = "Or"
        /// a xor b.
        case xor = "Xor"
    }

    /// `a op b` broadcast; both operands must be bool.
    static func logic(_ op: Logic, _ a: HostTensor, _ b: HostTensor) throws -> HostTensor {
        guard case .bool(let x) = a.storage, case .bool(let y) = b.storage else {
            throw OpError.invalid(op: op.rawValue, problem: "operands of types \(a.dtype) and \(b.dtype) (they must be bool)")
        }
        let rows = try BroadcastRows(a.shape, b.shape, op: op.rawValue)
        let result: [Bool]
        switch op {
        case .and: result = rows.apply(x, y) { $0 && $1 }
        case .or: result = rows.apply(x, y) { $0 || $1 }
        case .xor: result = rows.apply(x, y) { $0 != $1 }
        }
        return HostTensor(dtype: .bool, shape: rows.shape, storage: .bool(result))
    }

    /// `condition ? x : y` broadcast over the three shapes; `x` and `y` share a dtype.
    static func select(_ condition: HostTensor, _ x: HostTensor, _ y: HostTensor) throws -> HostTensor {
        guard case .bool(let take) = condition.storage else {
            throw OpError.invalid(op: "Where", problem: "condition of type \(condition.dtype) (it must be bool)")
        }
        try sameType(x, y, op: "Where")
        let shape = try Shapes.broadcast([condition.shape, x.shape, y.shape], op: "Where")
        _ = try Shapes.count(shape, op: "Where")
        let ic = Shapes.broadcastIndices(from: condition.shape, to: shape)
        let ix = Shapes.broadcastIndices(from: x.shape, to: shape)
        let iy = Shapes.broadcastIndices(from: y.shape, to: shape)
        // Pick from x's and y's elements laid end to end.
        let offset = x.count
        var indices = [Int](repeating: 0, count: ic.count)
        for i in indices.indices { indices[i] = take[ic[i]] ? ix[i] : offset + iy[i] }
        guard let both = HostStorage.joined([x.storage, y.storage]) else { return x }
        return HostTensor(dtype: x.dtype, shape: shape, storage: both.gathered(indices))
    }

    // MARK: - Unary math

    /// The unary math ops, by ONNX name.
    enum UnaryMath: String, CaseIterable {
        /// √x.
        case sqrt = "Sqrt"
        /// -x.
        case negate = "Neg"
        /// |x|.
        case absolute = "Abs"
        /// e^x.
        case exp = "Exp"
        /// ln x.
        case log = "Log"
        /// 1 / x.
        case reciprocal = "Reciprocal"
        /// Rounded down.
        case floor = "Floor"
        /// Rounded up.
        case ceil = "Ceil"
        /// The error function.
        case erf = "Erf"
        /// -1, 0 or 1 by the sign (NaN stays NaN).
        case sign = "Sign"
    }

    /// `op` of every element, in its dtype (`Neg`, `Abs` and `Sign` also on integers).
    static func unary(_ op: UnaryMath, _ x: HostTensor) throws -> HostTensor {
        let storage: HostStorage
        switch x.storage {
        case .float(let v): storage = .float(floatingUnary(op, v))
        case .double(let v): storage = .double(floatingUnary(op, v))
        case .int(let v):
            switch op {
            case .negate: storage = .int(v.map { 0 &- $0 })
            case .absolute: storage = .int(v.map { $0 < 0 ? 0 &- $0 : $0 })
            case .sign: storage = .int(v.map { $0.signum() })
            case .floor, .ceil: storage = x.storage
            default: throw OpError.invalid(op: op.rawValue, problem: "input of type \(x.dtype) (it must be a floating-point type)")
            }
        case .bool: throw OpError.invalid(op: op.rawValue, problem: "input of type bool is not a number")
        }
        return HostTensor(dtype: x.dtype, shape: x.shape, storage: storage)
    }

    /// `op` over floating-point elements.
    static func floatingUnary<T: ElementMath>(_ op: UnaryMath, _ v: [T]) -> [T] {
        switch op {
        case .sqrt: return v.map { $0.squareRoot() }
        case .negate: return v.map { -$0 }
        case .absolute: return v.map { $0.magnitude }
        case .exp: return v.map { T.exponential($0) }
        case .log: return v.map { T.logarithm($0) }
        case .reciprocal: return v.map { 1 / $0 }
        case .floor: return v.map { $0.rounded(.down) }
        case .ceil: return v.map { $0.rounded(.up) }
        case .erf: return v.map { T.errorFunction($0) }
        case .sign: return v.map { $0 > 0 ? 1 : $0 < 0 ? -1 : $0 }
        }
    }

    // MARK: - Cast

    /// `x` converted to `dtype` (floats to integers truncate toward zero and wrap to the width;
    /// to bool, non-zero is true; float64 to float16/bfloat16 rounds once, from the double).
    static func cast(_ x: HostTensor, to dtype: DType) -> HostTensor {
        if case .double(let v) = x.storage {
            switch dtype {
            case .float16: return HostTensor(dtype: dtype, shape: x.shape, storage: .float(v.map { Float(Float16($0)) }))
            case .bfloat16:
                let rounded = v.map { Float(bitPattern: UInt32(HalfPrecision.bfloat16Bits(from: $0)) << 16) }
                return HostTensor(dtype: dtype, shape: x.shape, storage: .float(rounded))
            default: break
            }
        }
        return x.converted(to: dtype)
    }
}
