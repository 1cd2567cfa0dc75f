import Foundation
import BNConvCore

/// The CPU's vendor and feature flags as Linux reports them in `/proc/cpuinfo`, and the OpenBLAS
/// kernel set they call for when OpenBLAS's own detection falls short.
struct CPUFeatures: Equatable {
    /// `vendor_id`, e.g. `AuthenticAMD`.
    let vendor: String
    /// The `flags` words.
    let flags: Set<String>

    /// The first processor's entry of `/proc/cpuinfo`; `nil` where there is none (not Linux).
    static let current: CPUFeatures? = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return parse(cpuinfo: text)
    }()

    /// The vendor and flags of the first processor in a `/proc/cpuinfo` text.
    static func parse(cpuinfo text: String) -> CPUFeatures? {
        var vendor: String?
        var flags: Set<String>?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if key == "vendor_id", vendor == nil { vendor = parts[1].trimmingCharacters(in: .whitespaces) }
            if key == "flags", flags == nil { flags = Set(parts[1].split(separator: " ").map(String.init)) }
            if vendor != nil && flags != nil { break }
        }
        guard let vendor, let flags else { return nil }
        return CPUFeatures(vendor: vendor, flags: flags)
    }

    /// The AVX-512 subsets OpenBLAS's `SkylakeX` kernels use.
    static let skylakeXFlags: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    /// `SkylakeX` for an AMD CPU with the AVX-512 subsets those kernels use (Zen 4, Zen 5: OpenBLAS
    /// 0.3.21 takes them for AVX2-only `Haswell`); `nil` otherwise (OpenBLAS detects Intel's itself).
    static func openBLASCoreType(vendor: String, flags: Set<String>) -> String? {
        vendor == "AuthenticAMD" && skylakeXFlags.isSubset(of: flags) ? "SkylakeX" : nil
    }
}
