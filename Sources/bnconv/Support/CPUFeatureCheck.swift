import Foundation

/// Refuses to start a binary built for AVX2 and FMA (`tools/release` on such a machine) on a
/// machine without them, with a message instead of an illegal-instruction crash in the first
/// vectorized loop.
enum CPUFeatureCheck {
    /// Exits with status 1 and a message when the build needs CPU features this machine lacks.
    static func requireBuildFeatures() {
        #if BNCONV_NEEDS_AVX2 && os(Linux)
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flags = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
        let present = Set(flags.split(separator: " ").map(String.init))
        let missing = ["avx2", "fma"].filter { !present.contains($0) }
        guard !missing.isEmpty else { return }
        FileHandle.standardError.write(Data(("bnconv: error: this build of bnconv needs a CPU with AVX2 and FMA; this one lacks "
            + missing.joined(separator: ", ") + " (rebuild with BNCONV_TARGET_CPU=generic tools/release)\n").utf8))
        exit(1)
        #endif
    }
}
