import ArgumentParser
import BNConv
import Foundation

/// `bnconv inspect FILE [--json] [--config JSON] [--naming CONVENTION]`: the format, layers and
/// BatchNorms of a checkpoint, what folding would do with each BatchNorm, and optionally how each
/// BatchNorm is named in another framework's convention. Reads only; writes nothing.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's format, layers and BatchNorms, and whether each BatchNorm can be folded."
    )

    @Argument(help: "The checkpoint (.h5, .keras, .weights.h5).")
    var file: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "The architecture for a weights-only file: model.to_json() output or a .keras file.")
    var config: String?

    @Option(help: ArgumentHelp("Also show each BatchNorm's parameter names, shapes and hyper-parameters in this convention (\(BatchNormNaming.Convention.allCases.map(\.rawValue).joined(separator: ", "))).",
                               valueName: "convention"))
    var naming: BatchNormNaming.Convention?

    func run() throws {
        CrashGuard.install(reading: [file] + (config.map { [$0] } ?? []))
        let summary: CheckpointSummary
        var names: BatchNormNaming?
        do {
            let model = try Checkpoint.read(file, config: config)
            CrashGuard.readingDone()
            summary = CheckpointSummary(model: model, decisions: planBatchNormFolds(model))
            names = naming.map { BatchNormNaming(model: model, convention: $0) }
        } catch {
            FileHandle.standardError.write(Data("bnconv: error: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(InspectJSON(summary: summary, naming: names))
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(summary.text(file: file))
            if let names { print(""); NamingText.lines(names).forEach { print($0) } }
        }
    }
}

/// `inspect --json`: the checkpoint summary's keys, plus `naming` with `--naming`.
private struct InspectJSON: Encodable {
    let summary: CheckpointSummary
    let naming: BatchNormNaming?

    private enum Key: String, CodingKey { case naming }

    func encode(to encoder: Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(naming, forKey: .naming)
    }
}
