import ArgumentParser
import BNConv

/// `--allow-special` and `--allow-large`, shared by every command that reads files.
struct InputFileOptions: ParsableArguments {
    @Flag(help: "Read a device, FIFO or socket given as an input as if it were a file (by default only regular files are read).")
    var allowSpecial = false

    @Flag(help: "Lift the caps on what a file may declare (one tensor over 4 GiB; tensors or zip members declaring over 100x the file's size) for a legitimate huge or highly compressed model.")
    var allowLarge = false

    /// These flags as arguments of a child process.
    var childArguments: [String] {
        (allowSpecial ? ["--allow-special"] : []) + (allowLarge ? ["--allow-large"] : [])
    }

    /// The options every read of the command uses: the environment's limits (none with
    /// `--allow-large`), special files as asked.
    var readOptions: ReadOptions {
        var options = CommandReadOptions.current
        options.allowsSpecialFiles = allowSpecial
        if allowLarge { options.limits = .unlimited }
        return options
    }
}
