// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderApp
import HotFolderCore
import HotFolderIO
import SeedanceEmulator
import Testing

/// Page and API timings with 100,000 jobs in the database (issue 11: ≤ 50 ms p99 each), over real HTTP.
///
/// Opt-in (`HOTFOLDER_BENCH=1`): it takes ~30 s and its figures depend on the machine's load.
extension ServiceSuites {
@Suite struct DashboardScaleTests {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["HOTFOLDER_BENCH"] != nil))
    func everyPageAnswersQuicklyWith100000Jobs() async throws {
        let folders = try ServiceFolders("dash-scale")
        var ids: [UUID] = []
        do {
            let store = try SQLiteStateStore(directory: folders.state)
            let states: [JobState] = [.done, .done, .done, .done, .done, .done, .failed, .invalid, .cancelled, .done]
            let words = ["fox", "owl", "heron", "wave", "glacier", "city", "forest", "desert"]
            for batch in 0..<100 {
                let jobs = (0..<1_000).map { offset -> NewJob in
                    let index = batch * 1_000 + offset
                    let prompt = "A \(words[index % words.count]) at dawn, take \(index)"
                    let spec = Data(#"{"name":"job-\#(index)","request":{"model":"seedance-1-0-lite","prompt":"\#(prompt)"}}"#.utf8)
                    return NewJob(name: "job-\(index)", lane: "lane-\(index % 5)", state: states[index % states.count], specJSON: spec)
                }
                ids += try store.insertJobs(jobs).map(\.id)
            }
            try store.close()
        }
        let emulator = try await startEmulator()
        try await withDashboard(folders, emulator: emulator) { http, _, store in
            #expect(try store.countsByState().values.reduce(0, +) == 100_000)
            let deep = try #require(try store.jobPage(JobListFilter(), cursor: nil, limit: 500).nextCursor)
            let middle = ids[50_000].uuidString.lowercased()
            let paths = [
                "/api/v1/status", "/api/v1/jobs", "/api/v1/jobs?state=failed", "/api/v1/jobs?lane=lane-3",
                "/api/v1/jobs?state=done&lane=lane-1", "/api/v1/jobs?q=heron", "/api/v1/jobs?q=job-99999",
                "/api/v1/jobs?q=nomatch", "/api/v1/jobs?q=dawn", "/api/v1/jobs?q=zq", "/api/v1/jobs?state=failed&q=heron",
                "/api/v1/jobs?cursor=\(deep)", "/api/v1/jobs/\(middle)", "/", "/jobs", "/jobs?state=invalid", "/failed",
                "/jobs/\(middle)", "/metrics", "/readyz",
            ]
            var lines: [String] = []
            for path in paths {
                var times: [Double] = []
                for _ in 0..<60 {
                    let start = ContinuousClock.now
                    let answer = try await http.send(path)
                    let elapsed = ContinuousClock.now - start
                    #expect(answer.status == 200, "\(path): \(answer.body.prefix(200))")
                    times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                }
                times.sort()
                let p50 = times[times.count / 2]
                let p99 = times[Int(Double(times.count - 1) * 0.99)]
                lines.append(String(format: "%-40@ p50 %6.1f ms  p99 %6.1f ms", path.prefix(40).description as NSString, p50, p99))
                #expect(p99 <= 50, "\(path): p99 \(p99) ms with 100,000 jobs")
            }
            print("dashboard timings with 100,000 jobs (60 requests each, loopback):\n" + lines.joined(separator: "\n"))
        }
        await emulator.shutdown()
    }
}
}
