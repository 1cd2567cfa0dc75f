/// Bounds on what a reader allocates for one tensor, checked against the size a file DECLARES
/// (shape x dtype) before any buffer is made, so a hostile or damaged file ends in an error rather
/// than an out-of-memory kill.
///
/// A value handed to the readers (through `ReadOptions`); the defaults suit most programs. The
/// library reads no environment: the `bnconv` command line builds its limits from the
/// `BNCONV_MAX_TENSOR_BYTES` variable, and the fuzz driver lowers the cap the same way. Readers
/// also refuse a declared size larger than the bytes the file actually holds, whatever the cap.
public struct ReadLimits: Sendable, Equatable {
    /// The default cap for one tensor: 4 GiB.
    public static let defaultMaxTensorBytes = 4 << 30

    /// The most bytes one tensor read from a file may take.
    public var maxTensorBytes: Int

    /// Limits with a cap of `maxTensorBytes` bytes for one tensor.
    public init(maxTensorBytes: Int = ReadLimits.defaultMaxTensorBytes) {
        self.maxTensorBytes = maxTensorBytes
    }

    /// The reason a tensor of `count` elements of `elementBytes` bytes each may not be allocated,
    /// or nil when it may (no overflow, within ``maxTensorBytes``).
    public func refusal(count: Int, elementBytes: Int) -> String? {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementBytes)
        if overflow || bytes > maxTensorBytes {
            let size = overflow ? "more than \(Int.max)" : "\(bytes)"
            return "it would take \(size) bytes, over the \(maxTensorBytes)-byte cap for one tensor (BNCONV_MAX_TENSOR_BYTES)"
        }
        return nil
    }
}
