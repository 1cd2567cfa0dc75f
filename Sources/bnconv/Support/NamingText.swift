import ArgumentParser
import Foundation
import BNConv

extension BatchNormNaming.Convention: ExpressibleByArgument {}

/// Text lines for ``BatchNormNaming`` (`inspect --naming`).
enum NamingText {
    /// One block per BatchNorm: its neighbours, each parameter's name, shape and dtype, the
    /// hyper-parameters and the convention's notes.
    static func lines(_ naming: BatchNormNaming) -> [String] {
        var lines = ["BatchNorm naming (\(naming.convention.rawValue)): \(naming.entries.count) layer(s)"]
        for entry in naming.entries {
            let after = entry.producer.map { "after \($0)" } ?? "on a model input"
            let before = entry.consumers.isEmpty ? "a model output" : entry.consumers.joined(separator: ", ")
            lines.append("  \(entry.layer) (\(after); read by \(before)); scope \(entry.scope)")
            let width = entry.parameters.map(\.role.count).max() ?? 0
            for p in entry.parameters {
                let role = p.role.padding(toLength: width, withPad: " ", startingAt: 0)
                lines.append("    \(role)  \(p.name)  \(p.shape) \(p.dtype)" + (p.note.map { "  (\($0))" } ?? ""))
            }
            let hyper = entry.hyperparameters.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.6g", $0.value))" }
            lines.append("    " + hyper.joined(separator: ", "))
            for note in entry.notes { lines.append("    note: \(note)") }
        }
        return lines
    }
}
