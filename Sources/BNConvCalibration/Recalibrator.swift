import BNConvCore
import BNConvModel
import BNConvEngine

/// Re-estimates every BatchNorm's moving mean and variance from calibration samples on the engine.
///
/// - ``RecalibrationMode/momentum``: one training-mode forward per batch (every BN normalizes with
///   its batch's moments, ``BatchNormStatistics/batch``), then each BN's moving statistics move
///   toward the batch moments with the layer's momentum under `convention`; the result is what the
///   framework stores after `model(batch, training=True)` on the same batches in the same order.
/// - ``RecalibrationMode/cumulative``: the exact population mean and biased variance of each BN's
///   input over all samples, measured with every BN before it already recalibrated and in inference
///   mode. BNs are taken by depth (a BN's depth is one more than the deepest BN it depends on); one
///   pass over the data per depth runs the part of the model up to that depth's BN inputs (only its
///   new nodes, from values the previous pass kept, while they fit in ``cacheBytes``) and merges
///   per-batch moments in Double (``RunningMoments``). The result is the inference-mode
///   fixed point: run on the calibration set, the recalibrated model's every BN sees inputs whose
///   population statistics are exactly its moving ones. It equals one training-mode forward over
///   the whole set as a single batch, and does not depend on batch size or order.
///
/// BatchNorms that read one stored moving mean and variance are recalibrated only when one of them
/// runs and the others normalize by batch statistics (a TensorFlow `tf.layers` BatchNorm on a
/// `training` flag, read from a frozen graph as a `tf.cond` of a training-mode node, which does not
/// run as read, and an inference one): the running node's input is measured and every node of the
/// group gets the result. Other sharing is refused (``CalibrationError``).
public struct Recalibrator: Sendable {
    /// Which estimate to make.
    public var mode: RecalibrationMode
    /// Samples per engine run.
    public var batchSize: Int
    /// The moving-average rule of momentum mode.
    public var convention: MovingAverageConvention
    /// Engine options (threads); the BatchNorm statistics option is set by the recalibrator.
    public var runOptions: RunOptions
    /// Memory cumulative mode may keep for values computed by one pass and read by the next (so
    /// each pass runs only the nodes no earlier pass ran); beyond it, a pass reruns the model from
    /// its inputs. Results are the same either way.
    public var cacheBytes: Int

    /// Creates a recalibrator.
    public init(mode: RecalibrationMode, batchSize: Int, convention: MovingAverageConvention, runOptions: RunOptions = .init(),
                cacheBytes: Int = 2 << 30) {
        self.cacheBytes = cacheBytes
        self.mode = mode
        self.batchSize = max(1, batchSize)
        self.convention = convention
        self.runOptions = runOptions
    }

    /// Recalibrates `model` on `data`; `progress` is called with (samples done, samples in all passes).
    public func apply(to model: Model, data: CalibrationSet,
                      progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> RecalibrationResult {
        guard data.sampleShapes.count == model.inputs.count else {
            throw CalibrationError.inputMismatch("the model has \(model.inputs.count) input(s) but \(data.sampleShapes.count) calibration array(s) were given for them")
        }
        for (name, sample) in zip(model.inputs, data.sampleShapes) {
            if let declared = model.values[name]?.shape {
                let fits = declared.count == sample.count + 1
                    && zip(declared.dropFirst(), sample).allSatisfy { $0 == nil || $0 == $1 }
                guard fits else {
                    let text = declared.map { $0.map(String.init) ?? "None" }.joined(separator: ", ")
                    throw CalibrationError.inputMismatch("calibration samples of shape \(sample) do not fit input '\(name)' of shape (\(text))")
                }
            }
        }
        let indices = model.batchNormIndices
        guard !indices.isEmpty else { throw CalibrationError.noBatchNorm }
        let sharing = try SharedStatisticsPlan(model: model)
        let old = try indices.map { try layer(model.nodes[$0]) }
        var result: RecalibrationResult
        switch mode {
        case .momentum: result = try momentum(model, sharing, data: data, progress: progress)
        case .cumulative: result = try cumulative(model, sharing, data: data, progress: progress)
        }
        // Nodes reading the statistics another node's input measured (a tf.cond's training branch).
        for (follower, leader) in sharing.followers.sorted(by: { $0.key < $1.key }) {
            let measured = try layer(result.model.nodes[leader])
            store(mean: measured.movingMean, variance: measured.movingVariance, in: &result.model.nodes[follower])
        }
        result.drift = try zip(indices, old).map { index, before in
            let after = try layer(result.model.nodes[index])
            return BatchNormDrift(node: model.nodes[index].name, oldMean: before.movingMean, oldVariance: before.movingVariance,
                                  newMean: after.movingMean, newVariance: after.movingVariance, epsilon: before.epsilon)
        }
        return result
    }

    // MARK: - momentum

    private func momentum(_ model: Model, _ sharing: SharedStatisticsPlan, data: CalibrationSet,
                          progress: ((Int, Int) -> Void)?) throws -> RecalibrationResult {
        var options = runOptions
        options.batchNormStatistics = .batch
        let runner = try ModelRunner(model: model, options: options)
        var layers: [String: BatchNormLayer] = [:]
        var momenta: [String: Double] = [:]
        for index in model.batchNormIndices {
            let node = model.nodes[index]
            layers[node.name] = try layer(node)
            if case .batchNorm(let b) = node.op { momenta[node.name] = b.momentum }
        }
        var done = 0
        progress?(0, data.sampleCount)
        for range in data.batchRanges(size: batchSize) {
            var seen: [BatchNormObservation] = []
            _ = try runner.run(data.batch(range), batchNormMoments: { seen.append($0) })
            for observation in seen {
                guard var layer = layers[observation.node], let m = momenta[observation.node] else { continue }
                layer.movingAverage = convention.movingAverage(momentum: m, inputRank: observation.inputShape.count)
                layer.update(with: observation.moments)
                layers[observation.node] = layer
            }
            done += range.count
            progress?(done, data.sampleCount)
        }
        var out = model
        for index in out.batchNormIndices where sharing.isMeasured(index) {
            guard let layer = layers[out.nodes[index].name] else { continue }
            store(mean: layer.movingMean, variance: layer.movingVariance, in: &out.nodes[index])
        }
        return RecalibrationResult(model: out, drift: [], passes: 1, samplesRun: done)
    }

    // MARK: - cumulative

    private func cumulative(_ model: Model, _ sharing: SharedStatisticsPlan, data: CalibrationSet,
                            progress: ((Int, Int) -> Void)?) throws -> RecalibrationResult {
        let depths = Self.depths(of: model)
        let measured = model.batchNormIndices.filter(sharing.isMeasured)
        let levels = Set(measured.compactMap { depths[model.nodes[$0].name] }).sorted()
        let total = levels.count * data.sampleCount
        let ranges = data.batchRanges(size: batchSize)
        let modelInputs = Set(model.inputs)
        var out = model
        var done = 0
        // Values computed by earlier passes that later nodes still read, one tensor per batch: a
        // pass runs only the nodes no earlier pass ran, from these, while they fit the budget.
        var cache: [String: [Tensor]] = [:]
        var ran = Set<Int>()
        progress?(0, total)
        for level in levels {
            let members = measured.filter { depths[out.nodes[$0].name] == level }
            let targets = Array(Set(members.map { out.nodes[$0].inputs[0] })).sorted()
            let prefix = Self.ancestors(in: out, of: targets)
            let fresh = prefix.subtracting(ran).filter { out.nodes[$0].op != .input }.sorted()
            let freshOutputs = Set(fresh.flatMap { out.nodes[$0].outputs })
            let external = Set(fresh.flatMap { out.nodes[$0].inputs }).subtracting(freshOutputs)
                .union(targets.filter { !freshOutputs.contains($0) })
            let fromCache = external.allSatisfy { modelInputs.contains($0) || cache[$0] != nil }
            let feeds = fromCache ? external.sorted() : model.inputs
            // Values of every node run so far that a node not run yet reads.
            let all = (fromCache ? ran : []).union(prefix)
            var readLater = Set<String>()
            for (i, node) in out.nodes.enumerated() where !all.contains(i) { readLater.formUnion(node.inputs) }
            let frontier = Set(all.flatMap { out.nodes[$0].outputs }).intersection(readLater).subtracting(modelInputs).sorted()
            let computed = frontier.filter { !fromCache || cache[$0] == nil }
            let outputs = targets + computed.filter { !targets.contains($0) }
            let part = fromCache
                ? Self.segment(of: out, nodes: fresh, inputs: feeds, outputs: outputs)
                : Self.prefix(of: out, producing: outputs)
            let runner = try ModelRunner(model: part, options: runOptions)

            var accumulated: [Int: RunningMoments] = [:]
            for index in members { accumulated[index] = RunningMoments(channels: try layer(out.nodes[index]).movingMean.count) }
            var next: [String: [Tensor]] = [:]
            for value in frontier { if let kept = cache[value], fromCache { next[value] = kept } }
            var bytes = next.values.reduce(0) { $0 + $1.reduce(0) { $0 + $1.bytes.count } }
            var caching = true
            for (b, range) in ranges.enumerated() {
                let batch = feeds.contains(where: modelInputs.contains) ? data.batch(range) : []
                let inputs = feeds.map { name in model.inputs.firstIndex(of: name).map { batch[$0] } ?? cache[name]![b] }
                let values = try runner.run(inputs)
                for index in members {
                    let node = out.nodes[index]
                    guard case .batchNorm(let attributes) = node.op, let slot = outputs.firstIndex(of: node.inputs[0]) else { continue }
                    let moments = try Self.moments(of: values[slot], axis: attributes.axis, threads: runOptions.threads)
                    guard moments.mean.count == accumulated[index]!.mean.count else {
                        throw EngineError.shapeMismatch("BatchNorm channels of \(node.name)", expected: [accumulated[index]!.mean.count], got: [moments.mean.count])
                    }
                    accumulated[index]!.merge(moments)
                }
                if caching {
                    for value in computed {
                        let t = values[outputs.firstIndex(of: value)!]
                        bytes += t.bytes.count
                        next[value, default: []].append(t)
                    }
                    if bytes > cacheBytes { caching = false; next = [:] }
                }
                done += range.count
                progress?(done, total)
            }
            cache = caching ? next : [:]
            ran = caching ? all : []
            for index in members {
                store(mean: accumulated[index]!.mean, variance: accumulated[index]!.variance, in: &out.nodes[index])
            }
        }
        return RecalibrationResult(model: out, drift: [], passes: levels.count, samplesRun: done)
    }

    /// The per-channel moments of an engine output (float32), read in place, summed on `threads`
    /// cores (every core when `nil`).
    static func moments(of x: Tensor, axis: Int, threads: Int?) throws -> BatchNormMoments {
        let g = try ChannelGeometry(shape: x.shape, axis: axis)
        guard x.dtype == .float32 else {
            return try BatchNormMoments(of: x.floats(), shape: x.shape, axis: axis, threads: threads)
        }
        return x.bytes.withUnsafeBytes { raw in
            raw.withMemoryRebound(to: Float.self) { BatchNormMoments(of: $0, geometry: g, threads: threads) }
        }
    }

    /// Indices of the nodes `values` depend on (input nodes included).
    static func ancestors(in model: Model, of values: [String]) -> Set<Int> {
        var needed = Set(values)
        var kept = Set<Int>()
        for (i, node) in model.nodes.enumerated().reversed() where node.op == .input || node.outputs.contains(where: needed.contains) {
            needed.formUnion(node.inputs)
            kept.insert(i)
        }
        return kept
    }

    /// The nodes at `indices` of `model` as a model reading `inputs` (values earlier passes
    /// computed) and writing `outputs`, every BN in inference mode.
    static func segment(of model: Model, nodes indices: [Int], inputs: [String], outputs: [String]) -> Model {
        let nodes = indices.map { inferenceMode(model.nodes[$0]) }
        let earlier = Set(inputs).subtracting(model.inputs)
        return Model(name: model.name, format: model.format, inputs: inputs, outputs: outputs, nodes: nodes,
                     values: model.values.filter { !earlier.contains($0.key) }, source: nil)
    }

    private static func inferenceMode(_ node: Node) -> Node {
        var node = node
        if case .batchNorm(var b) = node.op {
            b.training = false
            node.op = .batchNorm(b)
        }
        return node
    }

    /// Each BN node's depth: 1 for a BN with no BN upstream, else one more than the deepest BN it
    /// depends on.
    static func depths(of model: Model) -> [String: Int] {
        var valueDepth: [String: Int] = [:]
        var depths: [String: Int] = [:]
        for node in model.nodes {
            var depth = node.inputs.map { valueDepth[$0] ?? 0 }.max() ?? 0
            if case .batchNorm = node.op {
                depth += 1
                depths[node.name] = depth
            }
            for output in node.outputs { valueDepth[output] = depth }
        }
        return depths
    }

    /// The part of `model` that computes `values`, as its outputs, with every BN in inference mode
    /// (moving statistics).
    static func prefix(of model: Model, producing values: [String]) -> Model {
        let nodes = ancestors(in: model, of: values).sorted().map { inferenceMode(model.nodes[$0]) }
        return Model(name: model.name, format: model.format, inputs: model.inputs, outputs: values,
                     nodes: nodes, values: model.values, source: nil)
    }

    // MARK: - weights

    private func layer(_ node: Node) throws -> BatchNormLayer {
        guard case .batchNorm(let b) = node.op else {
            throw EngineError.unsupportedOp(node: node.name, op: node.opName, reason: "not a BatchNorm")
        }
        return try BatchNormLayer(node: node, attributes: b)
    }

    /// Writes new moving statistics into `node`'s weights, in their stored dtype and shape.
    private func store(mean: [Double], variance: [Double], in node: inout Node) {
        for (role, values) in [(WeightRole.movingMean, mean), (.movingVariance, variance)] {
            guard var weight = node.weight(role) else { continue }
            weight.tensor = Tensor(shape: weight.tensor.shape, doubles: values, dtype: weight.tensor.dtype)
            weight.isModified = true
            node.setWeight(weight)
        }
    }
}
