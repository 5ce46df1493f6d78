import Foundation

/// A minimal PDF 1.4 document of text lines in Helvetica, one or more US Letter pages: the
/// objects, the cross-reference table with each object's byte offset, and the trailer, so any
/// PDF reader opens it.
struct SandboxPDF {
    let title: String
    let lines: [String]

    static let linesPerPage = 50

    var data: Data {
        let pages = stride(from: 0, to: max(lines.count, 1), by: Self.linesPerPage).map {
            Array(lines[$0..<min($0 + Self.linesPerPage, lines.count)])
        }
        // Objects: 1 catalog, 2 page tree, 3 font, 4 information, then a page and its content
        // stream for each page.
        let pageNumbers = pages.indices.map { 5 + 2 * $0 }
        var objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [\(pageNumbers.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(pages.count) >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            "<< /Title \(Self.literal(title)) /Producer (MX sandbox) >>",
        ]
        for (index, page) in pages.enumerated() {
            var content = "BT\n/F1 10 Tf\n14 TL\n56 740 Td\n"
            for line in page { content += "\(Self.literal(line)) Tj T*\n" }
            content += "ET\n"
            objects.append(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents \(pageNumbers[index] + 1) 0 R >>"
            )
            objects.append("<< /Length \(content.utf8.count) >>\nstream\n\(content)endstream")
        }
        var output = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(output.utf8.count)
            output += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let tableOffset = output.utf8.count
        output += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { output += String(format: "%010d 00000 n \n", offset) }
        output += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R /Info 4 0 R >>\nstartxref\n\(tableOffset)\n%%EOF\n"
        return Data(output.utf8)
    }

    /// `text` as a PDF string literal: printable ASCII, with `\`, `(` and `)` escaped and any
    /// other character written as `?`.
    private static func literal(_ text: String) -> String {
        var escaped = "("
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\", "(", ")": escaped += "\\\(scalar)"
            case " "..."~": escaped.unicodeScalars.append(scalar)
            default: escaped += "?"
            }
        }
        return escaped + ")"
    }
}
