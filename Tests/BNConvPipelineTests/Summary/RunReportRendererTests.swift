@testable import BNConvModel
@testable import BNConvPasses
@testable import BNConvFormats
@testable import BNConvVerify
@testable import BNConvPipeline
@testable import BNConvTestSupport
import XCTest

final class RunReportRendererTests: XCTestCase {
    /// A real fold of the mini ResNet fixture, verified, rendered both ways.
    private func foldReport() throws -> RunReport {
        let model = try Checkpoint.read(FixturePaths.url("keras/add_concat/keras2.h5").path)
        let before = RunReport.opCounts(model)
        let folded = try FoldBatchNorm().apply(to: model)
        let verification = try Verifier().compare(reference: model, candidate: folded.model, foldMap: folded.valueMap)
        return RunReport(command: "fold", input: "add_concat.h5", output: "out<&>.h5", format: model.format.displayName,
                         decisions: folded.decisions, verification: verification, opsBefore: before,
                         opsAfter: RunReport.opCounts(folded.model), inputBytes: 1000, outputBytes: 800)
    }

    func testHTMLHasTheTablePlotAndCounts() throws {
        let report = try foldReport()
        let html = RunReportRenderer.render(report, as: .html)
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        for d in report.decisions { XCTAssertTrue(html.contains(">\(d.batchNorm)</td>"), d.batchNorm) }
        XCTAssertTrue(html.contains("kept: its input is the add of 2 branches"), "the kept BN's reason")
        XCTAssertTrue(html.contains("class=\"pass\">PASS"))
        // One plotted point per compared layer, folded layers marked.
        let circles = html.components(separatedBy: "<circle").count - 1
        XCTAssertEqual(circles, report.verification?.layers.count)
        XCTAssertGreaterThan(circles, 0)
        XCTAssertEqual(html.components(separatedBy: "(BN folded here)").count - 1,
                       Set(report.decisions.compactMap(\.target)).count)
        XCTAssertTrue(html.contains("out&lt;&amp;&gt;.h5"), "file names are escaped")
        XCTAssertTrue(html.contains("<td>BatchNormalization</td><td class=\"num\">\(report.opsBefore["BatchNormalization"]!)</td><td class=\"num\">1</td>"))
    }

    func testMarkdownHasTheSameFacts() throws {
        let report = try foldReport()
        let md = RunReportRenderer.render(report, as: .markdown)
        XCTAssertTrue(md.contains("## BatchNorm layers: 3 of 4 folded"))
        XCTAssertTrue(md.contains("## Verification: PASS"))
        XCTAssertTrue(md.contains("| BatchNormalization | 4 | 1 |"))
    }

    func testKindFromExtension() {
        XCTAssertEqual(RunReportRenderer.Kind(path: "a/report.HTML"), .html)
        XCTAssertEqual(RunReportRenderer.Kind(path: "r.md"), .markdown)
        XCTAssertNil(RunReportRenderer.Kind(path: "r.txt"))
    }
}
