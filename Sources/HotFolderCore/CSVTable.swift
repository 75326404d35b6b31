// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation

/// A parsed CSV manifest: the header and each data row with the line it starts on.
///
/// Follows RFC 4180 (quoted cells may contain the separator, `""` and line breaks) and accepts the
/// semicolon-separated files that spreadsheet programs write in many European locales.
public struct CSVTable: Sendable, Hashable {
    /// One data row.
    public struct Row: Sendable, Hashable {
        /// The 1-based line the row starts on.
        public var line: Int
        /// The cells, in column order.
        public var cells: [String]

        /// Creates a row.
        public init(line: Int, cells: [String]) {
            self.line = line
            self.cells = cells
        }
    }

    /// The column names from the first row, trimmed.
    public var header: [String]
    /// The data rows; blank lines are skipped.
    public var rows: [Row]

    /// Why a CSV file could not be split into rows.
    public enum ParseError: Error, Sendable, Hashable {
        /// A quoted cell that never ends; line and column of its opening quote.
        case unterminatedQuote(line: Int, column: Int)
        /// A quote in the middle of an unquoted cell, or text right after a closing quote.
        case strayQuote(line: Int, column: Int)
        /// There is no header row.
        case empty
    }

    /// Parses CSV text (a byte-order mark should already be removed).
    public static func parse(_ text: String) throws(ParseError) -> CSVTable {
        let chars = Array(text.unicodeScalars)
        let separator = detectSeparator(chars)
        var records: [Row] = []
        var cells: [String] = []
        var cell = String.UnicodeScalarView()
        var line = 1
        var column = 1
        var recordLine = 1
        var i = 0
        var cellWasQuoted = false

        func endRecord() {
            cells.append(String(cell))
            cell = String.UnicodeScalarView()
            let blank = cells.count == 1 && cells[0].isEmpty && !cellWasQuoted
            if !blank { records.append(Row(line: recordLine, cells: cells)) }
            cells = []
            cellWasQuoted = false
        }

        while i < chars.count {
            let c = chars[i]
            if c == "\"" {
                guard cell.isEmpty && !cellWasQuoted else { throw .strayQuote(line: line, column: column) }
                let (openLine, openColumn) = (line, column)
                cellWasQuoted = true
                i += 1
                column += 1
                var closed = false
                while i < chars.count {
                    let q = chars[i]
                    if q == "\"" {
                        if i + 1 < chars.count && chars[i + 1] == "\"" {
                            cell.append("\"")
                            i += 2
                            column += 2
                            continue
                        }
                        i += 1
                        column += 1
                        closed = true
                        break
                    }
                    if q == "\n" {
                        line += 1
                        column = 1
                    } else {
                        column += 1
                    }
                    cell.append(q)
                    i += 1
                }
                guard closed else { throw .unterminatedQuote(line: openLine, column: openColumn) }
                if i < chars.count, chars[i] != separator, chars[i] != "\n", chars[i] != "\r" {
                    throw .strayQuote(line: line, column: column)
                }
                continue
            }
            if c == separator {
                cells.append(String(cell))
                cell = String.UnicodeScalarView()
                cellWasQuoted = false
            } else if c == "\r" || c == "\n" {
                if c == "\r", i + 1 < chars.count, chars[i + 1] == "\n" { i += 1 }
                endRecord()
                line += 1
                column = 0
                recordLine = line
            } else {
                cell.append(c)
            }
            i += 1
            column += 1
        }
        if !cell.isEmpty || !cells.isEmpty || cellWasQuoted { endRecord() }
        guard let first = records.first else { throw .empty }
        return CSVTable(
            header: first.cells.map { $0.trimmingCharacters(in: .whitespaces) }, rows: Array(records.dropFirst()))
    }

    /// Picks `;` when the first line has more semicolons than commas outside quotes, else `,`.
    private static func detectSeparator(_ chars: [Unicode.Scalar]) -> Unicode.Scalar {
        var commas = 0
        var semicolons = 0
        var quoted = false
        for c in chars {
            if c == "\"" { quoted.toggle() }
            if quoted { continue }
            if c == "\n" { break }
            if c == "," { commas += 1 }
            if c == ";" { semicolons += 1 }
        }
        return semicolons > commas ? ";" : ","
    }
}
