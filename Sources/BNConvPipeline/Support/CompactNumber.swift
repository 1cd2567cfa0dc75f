import Foundation

/// Number formats shared by every report bnconv prints.
public enum CompactNumber {
    /// A number in compact scientific form ("2.4e-07"; "nan", "inf").
    public static func scientific(_ x: Double) -> String {
        x.isFinite ? String(format: "%.2g", x) : (x.isNaN ? "nan" : "inf")
    }
}
