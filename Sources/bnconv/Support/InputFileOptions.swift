import ArgumentParser
import BNConv

/// `--allow-special`, shared by every command that reads files.
struct InputFileOptions: ParsableArguments {
    @Flag(help: "Read a device, FIFO or socket given as an input as if it were a file (by default only regular files are read).")
    var allowSpecial = false

    /// The options every read of the command uses: the environment's limits, special files as asked.
    var readOptions: ReadOptions {
        var options = CommandReadOptions.current
        options.allowsSpecialFiles = allowSpecial
        return options
    }
}
