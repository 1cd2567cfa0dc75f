/// Bounds that readers check before they allocate anything sized by a file, so that a small
/// crafted file cannot make bnconv allocate gigabytes (docs/robustness.md, Limits).
///
/// Two caps: one tensor's bytes (``maxTensorBytes``), and the bytes all of a file's tensors (or
/// an archive's members) declare together, against the file's own size (``maxExpansion`` times
/// the file, or ``expansionFloorBytes``, whichever is larger): a 120-byte GraphDef whose constant
/// TensorFlow repeats to 4 GiB, or an HDF5 file of never-written gzip datasets, declares far more
/// than it holds. A real model's weights take about their file's size (compressed weights rarely
/// shrink below 1/2); the caps are raised for a legitimate model with `BNCONV_MAX_TENSOR_BYTES`
/// and `BNCONV_MAX_EXPANSION` or `--allow-large`.
public struct ReadLimits: Sendable, Equatable {
    /// The default cap for one tensor: 4 GiB.
    public static let defaultMaxTensorBytes = 4 << 30
    /// The default cap on declared bytes per byte of file: 100.
    public static let defaultMaxExpansion = 100
    /// Declared bytes allowed whatever the file's size: 64 MiB (a tiny graph may hold a
    /// legitimate constant of zeros that TensorFlow repeats from one value).
    public static let expansionFloorBytes = 64 << 20

    /// The default cap on one random input made for a run or a verification: 2^26 values.
    public static let defaultMaxInputValues = 1 << 26

    /// The most bytes one tensor read from a file may take.
    public var maxTensorBytes: Int
    /// The most values one random input (`run`, `fold`/`verify` samples: batch x input size) may
    /// hold; the CLI's `--batch` is checked against it before anything is made.
    public var maxInputValues = ReadLimits.defaultMaxInputValues
    /// The most nodes a graph file (GraphDef NodeDefs, ONNX graph nodes) may hold: each costs
    /// about 2.5 KB of bnconv's structures, so a 370 MB file of 10 million nodes would take 25 GB.
    public var maxNodes = ReadLimits.defaultMaxNodes

    /// The default cap on a graph's nodes: 2^20 (1,048,576).
    public static let defaultMaxNodes = 1 << 20
    /// The most bytes a file's tensors may declare in all, per byte of the file.
    public var maxExpansion: Int

    /// Limits with a cap of `maxTensorBytes` bytes for one tensor and `maxExpansion` declared
    /// bytes per byte of file.
    public init(maxTensorBytes: Int = ReadLimits.defaultMaxTensorBytes, maxExpansion: Int = ReadLimits.defaultMaxExpansion) {
        self.maxTensorBytes = maxTensorBytes
        self.maxExpansion = maxExpansion
    }

    /// Limits that accept any size that does not overflow (`--allow-large`).
    public static let unlimited: ReadLimits = {
        var limits = ReadLimits(maxTensorBytes: Int.max, maxExpansion: Int.max)
        limits.maxInputValues = Int.max
        limits.maxNodes = Int.max
        return limits
    }()

    /// The reason a tensor of `count` elements of `elementBytes` bytes each may not be allocated,
    /// or nil when it may (no overflow, within ``maxTensorBytes``).
    public func refusal(count: Int, elementBytes: Int) -> String? {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementBytes)
        if overflow || bytes > maxTensorBytes {
            let size = overflow ? "more than \(Int.max)" : "\(bytes)"
            return "it would take \(size) bytes, over the \(maxTensorBytes)-byte cap for one tensor (BNCONV_MAX_TENSOR_BYTES, --allow-large)"
        }
        return nil
    }

    /// The reason a graph of `count` nodes may not be read, or nil when it may.
    public func nodeRefusal(count: Int) -> String? {
        count > maxNodes ? "the graph has \(count) nodes, more than the \(maxNodes) bnconv reads (BNCONV_MAX_NODES, --allow-large)" : nil
    }

    /// The most bytes a file of `fileBytes` bytes may declare in all.
    public func totalAllowance(fileBytes: Int) -> Int {
        let (scaled, overflow) = max(fileBytes, 0).multipliedReportingOverflow(by: maxExpansion)
        return max(overflow ? Int.max : scaled, ReadLimits.expansionFloorBytes)
    }

    /// The reason `declared` bytes (nil: more than `Int.max`) may not be read from a file of
    /// `fileBytes` bytes, or nil when they may; `what` names what declares them ("the constants").
    public func totalRefusal(_ what: String, declared: Int?, fileBytes: Int) -> String? {
        let allowance = totalAllowance(fileBytes: fileBytes)
        guard let declared, declared <= allowance else {
            let amount = declared.map { "\($0) bytes" } ?? "more than \(Int.max) bytes"
            return "\(what) declare \(amount) in all, more than the \(allowance) bytes allowed for a \(fileBytes)-byte file (\(maxExpansion == Int.max ? "no" : "\(maxExpansion)x the file or") \(ReadLimits.expansionFloorBytes >> 20) MiB; BNCONV_MAX_EXPANSION, --allow-large)"
        }
        return nil
    }
}

/// A running, overflow-checked total of the bytes a file's tensors declare.
public struct DeclaredBytes: Sendable {
    /// The total so far; nil once it overflowed.
    public private(set) var total: Int? = 0

    /// An empty total.
    public init() {}

    /// Adds `count` elements of `elementBytes` bytes.
    public mutating func add(count: Int, elementBytes: Int) {
        guard let current = total else { return }
        let (bytes, o1) = count.multipliedReportingOverflow(by: elementBytes)
        let (sum, o2) = current.addingReportingOverflow(bytes)
        total = o1 || o2 || count < 0 ? nil : sum
    }

    /// Adds the elements of `shape` (each dimension clamped at 0) of `elementBytes` bytes each.
    public mutating func add(shape: [Int], elementBytes: Int) {
        guard let count = ElementCount.of(shape.map { max($0, 0) }) else { total = nil; return }
        add(count: count, elementBytes: elementBytes)
    }
}
