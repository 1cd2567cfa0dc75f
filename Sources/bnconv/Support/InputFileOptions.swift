import ArgumentParser
import BNConv
import Foundation

/// `--allow-special` and `--allow-large`, shared by every command that reads files.
struct InputFileOptions: ParsableArguments {
    @Flag(help: "Read a device, FIFO or socket given as an input as if it were a file (by default only regular files are read).")
    var allowSpecial = false

    @Flag(help: "Lift the caps on what a file may declare (one tensor over 4 GiB; tensors or zip members declaring over 100x the file's size) for a legitimate huge or highly compressed model.")
    var allowLarge = false

    @Option(help: ArgumentHelp("TensorFlow checkpoint: the graph (a MetaGraphDef) to read it with; by default PREFIX.meta.", valueName: "file"))
    var meta: String?

    @Option(help: ArgumentHelp("TensorFlow checkpoint or SavedModel: the output nodes or tensors to freeze, comma-separated; by default the signature's, else the graph's one plausible output.", valueName: "nodes"))
    var outputs: String?

    @Option(help: ArgumentHelp("SavedModel: the signature to freeze; by default serving_default, else the only one.", valueName: "name"))
    var signature: String?

    @Option(help: ArgumentHelp("SavedModel: the tag set of the graph to read, comma-separated; by default serve.", valueName: "tags"))
    var tags: String?

    /// These flags as arguments of a child process.
    var childArguments: [String] {
        (allowSpecial ? ["--allow-special"] : []) + (allowLarge ? ["--allow-large"] : [])
            + (meta.map { ["--meta", $0] } ?? []) + (outputs.map { ["--outputs", $0] } ?? [])
            + (signature.map { ["--signature", $0] } ?? []) + (tags.map { ["--tags", $0] } ?? [])
    }

    /// The options every read of the command uses: the environment's limits (none with
    /// `--allow-large`), special files as asked.
    var readOptions: ReadOptions {
        var options = CommandReadOptions.current
        options.allowsSpecialFiles = allowSpecial
        if allowLarge { options.limits = .unlimited }
        options.tensorFlow.metaGraph = meta
        options.tensorFlow.outputs = outputs.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        options.tensorFlow.signature = signature
        options.tensorFlow.tags = tags.map { $0.split(separator: ",").map(String.init) }
        return options
    }
}
