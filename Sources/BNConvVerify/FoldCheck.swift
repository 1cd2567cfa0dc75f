import Dispatch
import Synchronization
import BNConvCore
import BNConvModel
import BNConvEngine
import BNConvInterop

/// One folded BatchNorm checked on its own: the layers it touched (the conv or dense it folded
/// into, the BN, and any Identity/Dropout/Flatten between them) run on random inputs in the
/// original model and in the folded one, each in float32 on the engine, and measured against a
/// float64 reference of the original layers (``referenceError``, ``noiseFloor``).
///
/// This works whatever else the graph holds: a model the engine cannot run as a whole still has
/// each of its folds checked, and a wrong fold (a dropped epsilon, a wrong axis) is named.
public struct FoldCheck: Codable, Sendable {
    /// The folded BatchNorm.
    public var batchNorm: String
    /// The layer it folded into.
    public var target: String
    /// The error of the folded layers against the original ones, both run in float32 (with
    /// ``inModel``: the folded layer's output against the BN's inside the whole-model run), when
    /// they could be run.
    public var error: ErrorStatistics?
    /// Why the check could not run (an input shape that stays unknown, a layer the engine lacks).
    public var skipped: String?
    /// Whether the error was measured inside the whole-model run (the folded layer's output
    /// against the BN's, on the verification's inputs) because the layers alone could not run.
    public var inModel = false
    /// The folded layers' float32 output against the float64 reference of the original layers
    /// (their exact result on the same inputs), when the reference was computed.
    public var referenceError: ErrorStatistics?
    /// The original layers' own float32 output against that same reference: the float32 rounding
    /// of these layers on these inputs, the floor a correct fold's error stays near.
    public var noiseFloor: ErrorStatistics?
    /// Why the float64 reference was not used (an op it lacks, more work than it takes on, or an
    /// answer the original layers' float32 run does not confirm), when it was not: the verdict then
    /// rests on ``error``, the two float32 runs compared with each other.
    public var referenceSkipped: String?

    /// How many times the original layers' own float32 error (``noiseFloor``, max abs) the folded
    /// layers' error may reach when it exceeds the tolerance (docs/math.md, Checking a fold). The
    /// two float32 computations of the same affine map round about as often (the fold trades the
    /// BN's two roundings for one per weight), so a correct fold stays within a few times the floor
    /// (at most 2.8 times over the 338 folds of every fixture); a dropped epsilon, a skipped gamma or
    /// a scale on the wrong channels moves the output thousands of times more.
    public static let noiseMultiple = 16.0

    /// The error the verdict rests on: against the float64 reference when there is one, else
    /// between the two float32 runs.
    public var judgedError: ErrorStatistics? { referenceError ?? error }

    /// Whether the folded layers agree with the original ones within `tolerance` (range-relative).
    /// With a float64 reference: the folded layers' error against it is within `tolerance` of its
    /// range, or (when `tolerance` is not 0) within ``noiseMultiple`` times the original layers' own
    /// float32 error. Without one: the two float32 runs agree within `tolerance`. A skipped check
    /// neither passes nor fails: it is reported as skipped.
    public func agrees(tolerance: Double) -> Bool {
        if let referenceError, let noiseFloor {
            if referenceError.maxRel <= tolerance { return true }
            guard tolerance > 0, referenceError.maxAbs.isFinite else { return false }
            return referenceError.maxAbs <= Self.noiseMultiple * noiseFloor.maxAbs
        }
        return error.map { $0.maxRel <= tolerance } ?? true
    }
}

/// A fold to check: the BatchNorm, the layer it went into, and the direction.
public struct FoldToCheck: Sendable {
    /// The BatchNorm's node name in the original model.
    public var batchNorm: String
    /// The conv or dense node it folded into (the same name in both models).
    public var target: String
    /// Whether it folded into the layer before it (else into the one after it).
    public var intoProducer: Bool

    /// Creates a fold to check.
    public init(batchNorm: String, target: String, intoProducer: Bool) {
        self.batchNorm = batchNorm
        self.target = target
        self.intoProducer = intoProducer
    }
}

/// Runs ``FoldCheck``s.
public enum FoldChecker {
    /// A check for each of `folds` on the layers alone (``check(_:reference:candidate:seed:)``);
    /// where those could not run and the whole-model comparison in `report` compared the fold's
    /// value (the folded layer's output against the BN's), that comparison stands in for it.
    public static func check(_ folds: [FoldToCheck], reference: Model, candidate: Model, within report: VerificationReport,
                             foldMap: [String: String]?, seed: UInt64 = 0) -> [FoldCheck] {
        zip(folds, check(folds, reference: reference, candidate: candidate, seed: seed)).map { fold, local in
            guard let reason = local.skipped else { return local }
            let value: String?
            if fold.intoProducer {
                value = reference.node(named: fold.batchNorm)?.outputs.first.map { foldMap?[$0] ?? $0 }
            } else {
                value = reference.node(named: fold.target)?.outputs.first
            }
            guard let value, let layer = report.layers.first(where: { $0.value == value }) else { return local }
            return FoldCheck(batchNorm: fold.batchNorm, target: fold.target, error: layer.error, inModel: true,
                             referenceSkipped: "the layers alone could not run: \(reason)")
        }
    }

    /// The size an input dimension the model leaves open takes in a check, and the most a spatial
    /// one keeps (any size the layers accept will do: the check compares computations of the same
    /// layers, per channel, borders included; a window too large for it runs at full size).
    static let openDimension = 8

    /// About the most multiply-adds a check's layers should take at the capped size: wider layers
    /// get smaller spatial sizes (``spatialCap(of:rank:)``), so that their float64 reference takes
    /// a few milliseconds (ResNet-50's last 3x3 convolution, 512 to 512 channels, at 3x3 instead of
    /// 7x7: the 53 checks of a ResNet-50 fold take about a quarter of a second in all).
    static let checkWork = 1 << 23

    /// Checks every fold of `folds` between `reference` (the model before the fold) and
    /// `candidate` (after it), on one seeded random sample: both sets of layers run in float32 on
    /// the engine and are measured against the original layers computed in float64.
    ///
    /// The checks are independent, so they run on every core at once (largest first), each on one
    /// thread; a check whose layers hold a weight that can be read only on this thread (one read
    /// through the serial libhdf5, ``Tensor/loadsConcurrently``) runs here, after the others.
    /// ResNet-50's 53 checks: 0.15-0.20 s on one core, about half that on two.
    public static func check(_ folds: [FoldToCheck], reference: Model, candidate: Model, seed: UInt64 = 0) -> [FoldCheck] {
        // The layers are picked out here (cheap, and it reads no weight): capped, and at full size
        // for a window too large for the capped size (a 17x17 valid conv).
        let pairs = folds.map { fold in
            (capped: Result { try pair(fold, reference: reference, candidate: candidate, capsSpatialSizes: true) },
             full: Result { try pair(fold, reference: reference, candidate: candidate, capsSpatialSizes: false) })
        }
        @Sendable func checked(_ i: Int) -> FoldCheck {
            let fold = folds[i]
            func run(_ layers: Result<(Model, Model), Error>) throws -> FoldCheck {
                let (before, after) = try layers.get()
                let inputs = try RandomInputs.make(for: before, batch: 1, seed: seed)
                let options = RunOptions(threads: 1, streamsWeights: true)
                let expected = try ModelRunner(model: before, options: options).run(inputs)[0]
                let actual = try ModelRunner(model: after, options: options).run(inputs)[0]
                var check = FoldCheck(batchNorm: fold.batchNorm, target: fold.target,
                                      error: try ErrorStatistics(reference: expected, candidate: actual))
                do {
                    let truth = try Float64Reference.run(before, inputs: inputs)[0]
                    let floor = try ErrorStatistics(reference: truth, candidate: expected)
                    try ReferenceConfirmation.confirm(truth, original: expected, floor: floor, model: before, inputs: inputs)
                    check.noiseFloor = floor
                    check.referenceError = try ErrorStatistics(reference: truth, candidate: actual)
                } catch {
                    check.referenceSkipped = "\(error)"
                }
                return check
            }
            do {
                return try (try? run(pairs[i].capped)) ?? run(pairs[i].full)
            } catch {
                return FoldCheck(batchNorm: fold.batchNorm, target: fold.target, skipped: "\(error)")
            }
        }
        func readableAnywhere(_ i: Int) -> Bool {
            [pairs[i].capped, pairs[i].full].allSatisfy { layers in
                guard case .success(let (before, after)) = layers else { return true }
                return (before.nodes + after.nodes).allSatisfy { $0.weights.allSatisfy(\.tensor.loadsConcurrently) }
            }
        }
        let anywhere = folds.indices.filter(readableAnywhere)
        var results = [FoldCheck?](repeating: nil, count: folds.count)
        if Parallel.cores > 1 && anywhere.count > 1 {
            // The workers are threads the allocator gives heaps of their own: what the whole-model
            // runs freed is handed back first, so that it is not held beside the checks' memory.
            FreedHeapMemory.release()
            // Largest kernels first, so that the cores finish together.
            let weight: (Int) -> Int = { i in
                guard case .success(let (before, _)) = pairs[i].capped else { return 0 }
                return before.nodes.reduce(0) { $0 + $1.weights.reduce(0) { $0 + $1.tensor.count } }
            }
            let order = anywhere.sorted { weight($0) > weight($1) }
            let done = Mutex<[Int: FoldCheck]>([:])
            DispatchQueue.concurrentPerform(iterations: order.count) { k in
                let check = checked(order[k])
                done.withLock { $0[order[k]] = check }
            }
            for (i, check) in done.withLock({ $0 }) { results[i] = check }
        }
        return folds.indices.map { results[$0] ?? checked($0) }
    }

    /// The original layers of `fold` and their folded counterparts, each as a one-input model.
    static func pair(_ fold: FoldToCheck, reference: Model, candidate: Model, capsSpatialSizes: Bool = true) throws -> (Model, Model) {
        guard let bnIndex = reference.nodeIndex(named: fold.batchNorm) else { throw FoldCheckError("no node '\(fold.batchNorm)'") }
        var chain: [Node] = []
        if fold.intoProducer {
            // producer -> (Identity...) -> BN
            var i = bnIndex
            chain = [reference.nodes[i]]
            while reference.nodes[i].name != fold.target {
                guard let x = reference.nodes[i].inputs.first, let p = reference.producerIndex(of: x), chain.count < 64 else {
                    throw FoldCheckError("the layers between '\(fold.target)' and '\(fold.batchNorm)' are not a chain")
                }
                i = p
                chain.insert(reference.nodes[i], at: 0)
            }
        } else {
            // BN -> (Identity, Flatten...) -> consumer
            var i = bnIndex
            chain = [reference.nodes[i]]
            while reference.nodes[i].name != fold.target {
                let readers = reference.consumerIndices(of: reference.nodes[i].outputs[0])
                guard readers.count == 1, chain.count < 64 else {
                    throw FoldCheckError("the layers between '\(fold.batchNorm)' and '\(fold.target)' are not a chain")
                }
                i = readers[0]
                chain.append(reference.nodes[i])
            }
        }
        guard chain[0].inputs.count == 1 else { throw FoldCheckError("'\(chain[0].name)' reads \(chain[0].inputs.count) values") }
        let input = chain[0].inputs[0]
        let folded = try chain.filter { $0.name != fold.batchNorm }.map { node -> Node in
            guard let n = candidate.node(named: node.name) else { throw FoldCheckError("the folded model has no '\(node.name)'") }
            return n
        }
        var candidateChain = folded
        // The first folded layer reads the chain's input (into a consumer: the BN's input where it
        // read the BN's output; into a producer: what the layer before it reads after the other
        // folds, another value name for the same numbers).
        if !candidateChain.isEmpty {
            guard candidateChain[0].inputs.count == 1 else { throw FoldCheckError("'\(candidateChain[0].name)' reads \(candidateChain[0].inputs.count) values") }
            candidateChain[0].inputs = [input]
        }
        var info = reference.values[input] ?? ValueInfo(name: input)
        let expected = expectedInput(of: chain, intoProducer: fold.intoProducer)
        guard let shape = info.shape ?? expected.map({ Array(repeating: nil, count: $0.rank) }) else {
            throw FoldCheckError("the shape of its input '\(input)' is not known")
        }
        // Spatial sizes are capped (a fold acts per channel: a 16x16 window of a 224x224 image
        // checks it as well, at a fiftieth of the cost); open ones take that size too, and an open
        // channel count the one the first layer reads.
        let layout = expected?.layout ?? info.layout ?? .channelsLast
        let channel = shape.count >= 3 ? layout.channelAxis(rank: shape.count) : shape.count - 1
        let spatialAxes = shape.count >= 3 ? layout.spatialAxes(rank: shape.count) : []
        let caps = spatialCap(of: chain, rank: spatialAxes.count)
        info.shape = shape.enumerated().map { axis, d -> Int? in
            if axis == 0 { return nil }
            if axis == channel { return d ?? expected?.channels ?? openDimension }
            guard let s = spatialAxes.firstIndex(of: axis) else { return d ?? openDimension }
            return capsSpatialSizes ? min(d ?? openDimension, caps[s]) : (d ?? openDimension)
        }
        func model(_ nodes: [Node], output: String) -> Model {
            var values: [String: ValueInfo] = [input: info]
            for n in nodes { for o in n.outputs { values[o] = ValueInfo(name: o, layout: reference.values[o]?.layout) } }
            return Model(name: "fold-check", format: reference.format, inputs: [input], outputs: [output],
                         nodes: [Node(name: "fold-check-input", op: .input, inputs: [], outputs: [input])] + nodes, values: values)
        }
        let before = model(chain, output: chain.last!.outputs[0])
        let after = model(candidateChain, output: candidateChain.last?.outputs[0] ?? input)
        return (before, after)
    }

    /// The most each of `rank` spatial axes of a check's input keeps: ``openDimension``, or less for
    /// layers whose kernels hold so many weights (multiply-adds per position) that the positions
    /// would cost more than ``checkWork``, but never less than the window of a convolution among
    /// them (so that a window without padding still fits).
    static func spatialCap(of chain: [Node], rank: Int) -> [Int] {
        let roles: Set<WeightRole> = [.kernel, .depthwiseKernel, .pointwiseKernel]
        let perPosition = chain.reduce(0) { total, node in
            node.weights.filter { roles.contains($0.role) }.reduce(total) { $0 + $1.tensor.count }
        }
        var side = openDimension
        while side > 1, perPosition > 0, Float64Budget.product(Array(repeating: side, count: rank) + [perPosition]).map({ $0 > checkWork }) ?? true {
            side -= 1
        }
        var windows = Array(repeating: 1, count: rank)
        for node in chain {
            switch node.op {
            case .conv(let c), .depthwiseConv(let c), .separableConv(let c):
                for a in 0..<min(rank, c.rank, c.kernelSize.count, c.dilations.count) {
                    windows[a] = max(windows[a], (c.kernelSize[a] - 1) * c.dilations[a] + 1)
                }
            default: break
            }
        }
        return windows.map { min(openDimension, max(side, $0)) }
    }

    /// What the first layer of a fold's chain reads, from the layer itself, for an input whose
    /// shape the model leaves (partly) open: the rank, the layout and the channel count its
    /// weights take. Into a producer, the producer's kernel says; into a consumer, the BN's
    /// statistics give the channels and the conv after it the rank and layout (a dense consumer,
    /// rank 2, unless a Flatten or Reshape stands between). `nil` when none of it is known.
    static func expectedInput(of chain: [Node], intoProducer: Bool) -> (rank: Int, layout: DataLayout, channels: Int?)? {
        guard let first = chain.first else { return nil }
        if !intoProducer {
            let channels = first.weight(.movingMean)?.tensor.count
            guard let consumer = chain.last else { return nil }
            switch consumer.op {
            case .conv(let c): return (c.rank + 2, c.layout, channels)
            case .dense where chain.dropFirst().dropLast().allSatisfy({ if case .identity = $0.op { true } else { false } }):
                return (2, .channelsLast, channels)
            default: return nil
            }
        }
        func kernel(_ role: WeightRole) -> (shape: [Int], layout: KernelLayout)? {
            first.weight(role).map { ($0.tensor.shape, $0.layout) }
        }
        switch first.op {
        case .conv(let c):
            guard let (k, layout) = kernel(.kernel), k.count == c.rank + 2 else { return (c.rank + 2, c.layout, nil) }
            let perGroup = layout == .oihw ? k[1] : layout == .hwio ? k[c.rank] : nil
            return (c.rank + 2, c.layout, perGroup.map { $0 * c.groups })
        case .depthwiseConv(let c):
            guard let (k, layout) = kernel(.kernel), k.count == c.rank + 2 else { return (c.rank + 2, c.layout, nil) }
            let channels = layout == .hwcm ? k[c.rank] : layout == .oihw && c.depthMultiplier > 0 ? k[0] / c.depthMultiplier : nil
            return (c.rank + 2, c.layout, channels)
        case .separableConv(let c):
            guard let (k, layout) = kernel(.depthwiseKernel), k.count == c.rank + 2, layout == .hwcm else { return (c.rank + 2, c.layout, nil) }
            return (c.rank + 2, c.layout, k[c.rank])
        case .convTranspose(let c):
            guard let (k, layout) = kernel(.kernel), k.count == c.rank + 2 else { return (c.rank + 2, c.layout, nil) }
            return (c.rank + 2, c.layout, layout == .iohw ? k[0] : layout == .hwoi ? k[c.rank + 1] : nil)
        case .dense:
            guard let (k, layout) = kernel(.kernel), k.count == 2 else { return nil }
            return (2, .channelsLast, layout == .oi ? k[1] : k[0])
        default:
            return nil
        }
    }
}

/// Why a fold could not be checked on its own.
struct FoldCheckError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
