import Foundation

/// Bounds on what a reader allocates for one tensor, checked against the size a file DECLARES
/// (shape x dtype) before any buffer is made, so a hostile or damaged file ends in an error rather
/// than an out-of-memory kill.
///
/// The cap comes from the `BNCONV_MAX_TENSOR_BYTES` environment variable (a byte count, read once
/// at first use) or ``defaultMaxTensorBytes``; a program may also set ``maxTensorBytes`` directly
/// (the fuzz driver lowers it). Readers also refuse a declared size larger than the bytes the file
/// actually holds, whatever the cap.
public enum ReadLimits {
    /// The default cap for one tensor: 4 GiB.
    public static let defaultMaxTensorBytes = 4 << 30

    /// The most bytes one tensor read from a file may take.
    nonisolated(unsafe) public static var maxTensorBytes: Int = {
        if let text = ProcessInfo.processInfo.environment["BNCONV_MAX_TENSOR_BYTES"], let value = Int(text), value > 0 {
            return value
        }
        return defaultMaxTensorBytes
    }()

    /// The reason a tensor of `count` elements of `elementBytes` bytes each may not be allocated,
    /// or nil when it may (no overflow, within ``maxTensorBytes``).
    public static func refusal(count: Int, elementBytes: Int) -> String? {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: elementBytes)
        if overflow || bytes > maxTensorBytes {
            let size = overflow ? "more than \(Int.max)" : "\(bytes)"
            return "it would take \(size) bytes, over the \(maxTensorBytes)-byte cap for one tensor (BNCONV_MAX_TENSOR_BYTES)"
        }
        return nil
    }
}
