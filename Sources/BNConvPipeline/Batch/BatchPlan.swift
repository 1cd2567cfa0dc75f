import Foundation

/// What `bnconv fold` with several inputs or a directory folds, and where each result goes,
/// worked out and checked before any file is read.
///
/// Inputs are taken in the order given; a directory stands for its model files
/// (``ModelDirectory/modelFiles(in:tag:)``: not recursive, sorted by name). Each output is
/// `NAME.<tag>.EXT` beside its input, or with that name in ``outputDirectory``, or the input
/// itself when the inputs are replaced. Two inputs that are one file, two outputs that would be
/// one file, and an output that would replace another input are refused here, as a
/// ``UsageError``, so that nothing has run when the plan is wrong.
///
/// ```swift
/// let plan = try BatchPlan(inputs: ["zoo"], outputDirectory: "folded")
/// try plan.createOutputDirectory()
/// for job in plan.jobs {
///     _ = try RewritePipeline.run(RewriteRequest(input: job.input, output: job.output))
/// }
/// ```
///
/// The files are independent, but libhdf5 (the serial build) may not be used from two threads
/// at once: fold them one after the other in a process, or in separate processes (the command
/// line runs one `bnconv fold FILE` process per file, `--jobs` at a time).
public struct BatchPlan: Sendable, Equatable {
    /// One file of the plan.
    public struct Job: Sendable, Equatable {
        /// The model to read.
        public var input: String
        /// Where its result goes (``input`` itself when the inputs are replaced).
        public var output: String
    }

    /// The files, in order.
    public var jobs: [Job]
    /// The directory the outputs go to (`nil`: beside each input).
    public var outputDirectory: String?
    /// Whether every input is replaced by its result.
    public var replacesInputs: Bool

    /// Plans `inputs` (model files and directories of them). `outputDirectory` may not exist yet
    /// (``createOutputDirectory()`` makes it) but may not be anything but a directory; it cannot
    /// be combined with `replacesInputs`. `tag` names the outputs (`NAME.<tag>.EXT`) and is what
    /// a directory's listing skips.
    public init(inputs: [String], outputDirectory: String? = nil, replacesInputs: Bool = false, tag: String = "folded") throws {
        guard !inputs.isEmpty else { throw UsageError("no input: give model files or directories of them") }
        if replacesInputs && outputDirectory != nil {
            throw UsageError("the inputs cannot both be replaced and written to the directory \(outputDirectory!)")
        }
        var files: [String] = []
        for input in inputs {
            guard ModelDirectory.isDirectory(input) else {
                files.append(input)
                continue
            }
            let found = try ModelDirectory.modelFiles(in: input, tag: tag)
            if found.isEmpty {
                throw UsageError("\(input): no model files in it (\(ModelDirectory.modelExtensions.joined(separator: " ")), not *.\(tag).*; subdirectories are not searched)")
            }
            files += found
        }
        if let outputDirectory, FileManager.default.fileExists(atPath: outputDirectory), !ModelDirectory.isDirectory(outputDirectory) {
            throw UsageError("\(outputDirectory) is not a directory: with several inputs or a directory the output names a directory, where each result is written as NAME.\(tag).EXT")
        }
        jobs = files.map { input in
            if replacesInputs { return Job(input: input, output: input) }
            let name = URL(fileURLWithPath: OutputPath.beside(input, tag: tag)).lastPathComponent
            guard let outputDirectory else {
                // Beside the input, spelled from the input's own folder (relative stays relative).
                let folder = input.lastIndex(of: "/").map { String(input[...$0]) } ?? ""
                return Job(input: input, output: folder + name)
            }
            return Job(input: input, output: ModelDirectory.join(outputDirectory, name))
        }
        self.outputDirectory = outputDirectory
        self.replacesInputs = replacesInputs
        try checkCollisions()
    }

    /// Refuses an input given twice, two outputs on one file, and an output on another input.
    private func checkCollisions() throws {
        var inputs: [String: String] = [:]
        for job in jobs {
            let key = BatchPlan.identity(job.input)
            if let earlier = inputs[key] {
                throw UsageError("\(earlier) and \(job.input) are the same file; give each input once")
            }
            inputs[key] = job.input
        }
        guard !replacesInputs else { return }
        var outputs: [String: String] = [:]
        for job in jobs {
            let key = BatchPlan.identity(job.output)
            if let earlier = outputs[key] {
                throw UsageError("\(earlier) and \(job.input) would both be written to \(job.output); nothing was folded (rename one, or fold them into different directories)")
            }
            outputs[key] = job.input
            if let other = inputs[key] {
                throw UsageError("the output of \(job.input), \(job.output), would replace the input \(other); nothing was folded (choose another output directory)")
            }
        }
    }

    /// Makes ``outputDirectory`` (and its parents) when it does not exist yet.
    public func createOutputDirectory() throws {
        guard let outputDirectory, !ModelDirectory.isDirectory(outputDirectory) else { return }
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
    }

    /// The path every spelling of the same file shares: absolute, `.` and `..` gone, links in its
    /// folder resolved (the file itself may not exist yet) and a link as the file followed.
    private static func identity(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if FileManager.default.fileExists(atPath: url.path) { return url.resolvingSymlinksInPath().path }
        return url.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(url.lastPathComponent).path
    }
}
