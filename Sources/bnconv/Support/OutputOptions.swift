import ArgumentParser
import Foundation

/// The output flags every subcommand shares: `--json`, `--quiet`, `--verbose`.
///
/// One meaning everywhere: `--json` prints one JSON object on stdout and nothing else there;
/// `--quiet` prints only errors and the essential result (a written file says nothing, `inspect`
/// one line, `run` its outputs or timing); `--verbose` adds detail (every layer's error, notes,
/// every weight, timings). Errors and warnings always go to stderr.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object on stdout instead of text (schema in the README).")
    var json = false

    @Flag(name: [.short, .long], help: "Print only errors and the essential result.")
    var quiet = false

    @Flag(name: [.short, .long], help: "Print more detail (every layer, timings).")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose cannot be used together") }
    }

    /// Whether human-readable text goes to stdout.
    var printsText: Bool { !json && !quiet }
}
