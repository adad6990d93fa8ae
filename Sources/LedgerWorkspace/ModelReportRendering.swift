import Foundation
public import LedgerCore

extension ModelReport {
    /// One HTML file that opens anywhere: inline CSS and SVG, no script, no font, image or link to fetch.
    public func html(generated: Timestamp) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <title>\(Self.escape("\(name)@\(version)")): model report</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f24}
            h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}
            table{border-collapse:collapse;width:100%;margin:.5rem 0;table-layout:auto}td,th{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
            td.nowrap{white-space:nowrap;overflow-wrap:normal}
            th{background:#f6f8fa}code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
            .ok{color:#1a7f37;font-weight:600}.muted{color:#57606a}details{margin:.2rem 0}
            svg{background:#fff;border:1px solid #d0d7de;max-width:100%;height:auto}
            </style></head><body>
            <h1>\(Self.escape("\(name)@\(version)"))</h1>
            <p class="muted">Status <b>\(Self.escape(status))</b>\(serving.isEmpty ? "" : ", serving \(Self.escape(serving.joined(separator: ", ")))") · log <code>\(Self.escape(logID))</code> · trust anchor <code>\(genesis.hex)</code> · generated \(generated.rfc3339)</p>

            """
        out += "<h2>Model card</h2>\n<table>\n"
        let card: [(String, String)] = [
            (
                "Purpose",
                "Flags unusual activity in the application's audit events: one score per actor and UTC hour, from the features below, to send the most anomalous windows (the alert budget) to analysts."
            ),
            ("Model", "\(algorithm), artifact <code>sha256:\(artifact)</code>"),
            (
                "Training data",
                "window \(Self.escape(window)); dataset <code>sha256:\(dataset)</code>; \(Self.escape(datasetRows))"
            ),
            ("Features", features.map { "<code>\(Self.escape($0))</code>" }.joined(separator: ", ")),
            (
                "Hyperparameters",
                "<code>\(Self.escape(Self.text(parameters)))</code>, seed <code>\(Self.escape(Self.text(seed)))</code>"
            ),
            ("Holdout metrics", candidate.map { "\(Self.escape($0.0)) \($0.1)" }.joined(separator: " · ")),
            (
                "Against the champion",
                Self.escape(champion.map { "\($0); \(difference ?? "")" } ?? "none: judged as a first model")
            ),
            (
                "Verdict",
                "\(Self.escape(verdict))"
                    + (reasons.isEmpty ? "" : ": " + reasons.map(Self.escape).joined(separator: "; "))
            ),
            ("Policy in force", Self.escape(policy)),
            ("Approvals", approvals.isEmpty ? "none" : approvals.map(Self.escape).joined(separator: "; ")),
        ]
        for (label, value) in card { out += "<tr><th>\(label)</th><td>\(value)</td></tr>\n" }
        out += "</table>\n<p><b>Known limitations</b></p><ul>\n"
        for limitation in limitations { out += "<li>\(Self.escape(limitation))</li>\n" }
        out += "</ul>\n"

        out +=
            "<h2>Signed timeline</h2>\n<table><tr><th>Seq</th><th>Time (UTC)</th><th>Event</th><th>Signed by</th><th>Details</th></tr>\n"
        for entry in timeline {
            out +=
                "<tr><td class=\"nowrap\">\(entry.seq)</td><td class=\"nowrap\">\(entry.time.rfc3339)</td>"
                + "<td class=\"nowrap\"><code>\(Self.escape(entry.type))</code></td>"
                + "<td class=\"nowrap\">\(Self.escape(entry.signer))<br>"
                + "<span class=\"mono muted\" title=\"\(entry.keyID)\">keyid \(entry.keyID.prefix(16))…</span></td>"
                + "<td>\(Self.escape(entry.summary))</td></tr>\n"
        }
        out += "</table>\n"

        out += "<h2>Drift</h2>\n"
        if driftLabels.isEmpty {
            out += "<p>No drift was measured yet.</p>\n"
        } else {
            out +=
                "<p>PSI of each feature against the serving model's training data, one point per measurement; the dashed lines are the moderate (\(Gate.format(thresholds.moderate))) and significant (\(Gate.format(thresholds.significant))) thresholds.</p>\n"
            out += chart(drift.filter { $0.name != "anomaly scores" }, title: "Per-feature PSI")
            out += chart(drift.filter { $0.name == "anomaly scores" }, title: "PSI of the anomaly scores")
        }

        out += "<h2>Verification</h2>\n"
        out +=
            "<p class=\"ok\">The log verified: \(verification.entries) entries against the trust anchor (signatures, chain, authority and every rule). RFC 9162 root <code>\(verification.root.hex)</code>.</p>\n"
        if let note = verification.checkpoint {
            out +=
                "<p>Checkpoint signed by the log key for this report (C2SP signed note):</p><pre class=\"mono\">\(Self.escape(note))</pre>\n"
        } else {
            out += "<p class=\"muted\">No log key in this workspace: no checkpoint was signed.</p>\n"
        }
        out +=
            "<p>Inclusion proofs of the events above in the tree of \(verification.entries) entries (check with <code>ledger prove verify</code>):</p>\n"
        for entry in timeline {
            out +=
                "<details><summary>seq \(entry.seq) <code>\(Self.escape(entry.type))</code>, leaf <span class=\"mono\">\(entry.leafHash.hex)</span></summary><ol class=\"mono\">"
                + entry.proof.map { "<li>\($0.hex)</li>" }.joined() + "</ol></details>\n"
        }
        out += "<h2>Reproduce</h2>\n<pre class=\"mono\">\(Self.escape(reproduce))</pre>\n"
        out +=
            "<p class=\"muted\">Rebuilds the snapshot, the dataset, the model and the evaluation from the events and the Audit DB, and compares every digest and metric.</p>\n"
        out += "</body></html>\n"
        return out
    }

    /// The same report in Markdown: tables instead of charts.
    public func markdown(generated: Timestamp) -> String {
        var out =
            "# \(Self.cell(name))@\(version)\n\nStatus **\(Self.cell(status))**"
            + (serving.isEmpty ? "" : ", serving \(Self.cell(serving.joined(separator: ", ")))")
        out += " · log `\(logID)` · trust anchor `\(genesis.hex)` · generated \(generated.rfc3339)\n\n## Model card\n\n"
        out += "| | |\n|---|---|\n"
        let rows: [(String, String)] = [
            ("Model", "\(algorithm), artifact `sha256:\(artifact)`"),
            ("Training data", "window \(window); dataset `sha256:\(dataset)`; \(datasetRows)"),
            ("Features", features.map { "`\($0)`" }.joined(separator: ", ")),
            ("Hyperparameters", "`\(Self.text(parameters))`, seed `\(Self.text(seed))`"),
            ("Holdout metrics", candidate.map { "\($0.0) \($0.1)" }.joined(separator: " · ")),
            ("Against the champion", champion.map { "\($0); \(difference ?? "")" } ?? "none: judged as a first model"),
            ("Verdict", verdict + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; "))),
            ("Policy in force", policy), ("Approvals", approvals.isEmpty ? "none" : approvals.joined(separator: "; ")),
        ]
        for (label, value) in rows { out += "| \(label) | \(Self.cell(value)) |\n" }
        out += "\nKnown limitations:\n\n" + limitations.map { "- \(Self.cell($0))\n" }.joined()
        out += "\n## Signed timeline\n\n| Seq | Time (UTC) | Event | Signed by | Details |\n|---|---|---|---|---|\n"
        for entry in timeline {
            out += "| \(entry.seq) | \(entry.time.rfc3339) | `\(Self.cell(entry.type))` | \(Self.cell(entry.signer)) "
            out += "(`\(entry.keyID.prefix(16))…`) | \(Self.cell(entry.summary)) |\n"
        }
        out += "\n## Drift (PSI)\n\n"
        if driftLabels.isEmpty {
            out += "No drift was measured yet.\n"
        } else {
            out +=
                "| Feature | " + driftLabels.joined(separator: " | ") + " |\n|---|"
                + driftLabels.map { _ in "---|" }.joined() + "\n"
            for series in drift {
                out +=
                    "| \(Self.cell(series.name)) | " + series.values.map(Gate.format).joined(separator: " | ") + " |\n"
            }
        }
        out +=
            "\n## Verification\n\nThe log verified: \(verification.entries) entries, RFC 9162 root `\(verification.root.hex)`.\n"
        if let note = verification.checkpoint { out += "\n```\n\(note)```\n" }
        out += "\n## Reproduce\n\n```sh\n\(reproduce)\n```\n"
        return out
    }

    /// A line chart of `series` over the measurements, as inline SVG.
    private func chart(_ series: [Series], title: String) -> String {
        guard !series.isEmpty else { return "" }
        let (width, height, left, right, top, bottom) = (980.0, 300.0, 55.0, 260.0, 30.0, 40.0)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let peak = max(thresholds.significant * 1.2, series.flatMap(\.values).max() ?? 0, 0.01)
        let count = max(driftLabels.count - 1, 1)
        func x(_ index: Int) -> Double { left + plotWidth * Double(index) / Double(count) }
        func y(_ value: Double) -> Double { top + plotHeight * (1 - min(value, peak) / peak) }
        let palette = [
            "#0969da", "#cf222e", "#1a7f37", "#8250df", "#bf8700", "#0a3069", "#a40e26", "#116329", "#6639ba",
            "#953800", "#57606a",
        ]
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(Self.escape(title))\">"
        svg += "<text x=\"\(Int(left))\" y=\"18\" font-size=\"13\" font-weight=\"600\">\(Self.escape(title))</text>"
        svg += "<line x1=\"\(left)\" y1=\"\(y(0))\" x2=\"\(left + plotWidth)\" y2=\"\(y(0))\" stroke=\"#8c959f\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(y(0))\" stroke=\"#8c959f\"/>"
        for (value, label) in [(thresholds.moderate, "moderate"), (thresholds.significant, "significant")] {
            svg +=
                "<line x1=\"\(left)\" y1=\"\(y(value))\" x2=\"\(left + plotWidth)\" y2=\"\(y(value))\" stroke=\"#bf8700\" stroke-dasharray=\"5 4\"/>"
            svg +=
                "<text x=\"\(left + plotWidth + 4)\" y=\"\(y(value) + 4)\" font-size=\"10\" fill=\"#9a6700\">\(label) \(Gate.format(value))</text>"
        }
        for tick in 0...4 {
            let value = peak * Double(tick) / 4
            svg +=
                "<text x=\"\(left - 6)\" y=\"\(y(value) + 4)\" font-size=\"10\" text-anchor=\"end\">\(String(format: "%.2f", value))</text>"
        }
        for (index, label) in driftLabels.enumerated() {
            svg +=
                "<text x=\"\(x(index))\" y=\"\(height - bottom + 16)\" font-size=\"10\" text-anchor=\"middle\">\(Self.escape(label))</text>"
        }
        for (index, line) in series.enumerated() {
            let color = palette[index % palette.count]
            let points = line.values.enumerated().map { "\(x($0.offset)),\(y($0.element))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>"
            for (point, value) in line.values.enumerated() {
                svg +=
                    "<circle cx=\"\(x(point))\" cy=\"\(y(value))\" r=\"2.5\" fill=\"\(color)\"><title>\(Self.escape(line.name)) \(driftLabels[point]): PSI \(Gate.format(value))</title></circle>"
            }
            let legend = top + 14 * Double(index)
            svg +=
                "<rect x=\"\(width - right + 85)\" y=\"\(legend - 8)\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            svg +=
                "<text x=\"\(width - right + 99)\" y=\"\(legend + 1)\" font-size=\"10\">\(Self.escape(line.name))</text>"
        }
        return svg + "</svg>\n"
    }

    /// Text for a Markdown table cell: HTML escaped (Markdown passes HTML through), pipes escaped, one line.
    public static func cell(_ text: String) -> String {
        escape(text).replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "\n", with: " ")
    }

    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
