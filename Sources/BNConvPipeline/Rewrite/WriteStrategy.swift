/// How a rewrite moves weights from the input file to the output.
public enum WriteStrategy: Sendable, Equatable {
    /// Every weight is read into memory, the passes and verification run on the loaded model,
    /// and the writer writes it.
    case inMemory
    /// Weights of at least `deferredMinimumBytes` stay in the input file until the engine or the
    /// writer needs them (a verification reads them from there when their nodes run; a layout
    /// conversion loads them);
    /// untouched ones are copied dataset to dataset, folded kernels are scaled from a mapping of
    /// the input straight into the output and checked for NaN and infinity as they go (a BN whose
    /// kernel holds such values is then planned again with every check made first, and kept).
    case streaming(deferredMinimumBytes: Int)

    /// The threshold from which ``streaming(deferredMinimumBytes:)`` leaves a weight in the file
    /// by default: 64 KiB (BN statistics and biases are smaller and read at once).
    public static let defaultDeferredMinimumBytes = 64 << 10
}
