import ArgumentParser
import BNConv
import Foundation

/// `bnconv inspect FILE [--json] [--config JSON]`: the format, layers and BatchNorms of a checkpoint,
/// and what folding would do with each BatchNorm. Reads only; writes nothing.
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

    func run() throws {
        CrashGuard.install(reading: [file] + (config.map { [$0] } ?? []))
        let summary: CheckpointSummary
        do {
            let model = try Checkpoint.read(file, config: config)
            CrashGuard.readingDone()
            summary = CheckpointSummary(model: model, decisions: planBatchNormFolds(model))
        } catch {
            FileHandle.standardError.write(Data("bnconv: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(summary)
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(summary.text(file: file))
        }
    }
}
