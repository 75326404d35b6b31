// SPDX-License-Identifier: GPL-2.0-or-later
@testable import HotFolderIO
import Testing

/// The periodic safety rescan of inotify mode keeps to `rescan_interval` on ordinary trees and comes less often on
/// trees so large that rescanning every interval would cost more than 0.05 % of a core (issue 14: 10,000 watched
/// folders idle at <= 0.1 s of CPU a minute).
@Suite struct RescanCadenceTests {
    @Test func ordinaryTreesKeepTheIntervalAndHugeOnesStretchToTheirShare() {
        #expect(InotifyEventSource.rescanGap(interval: 60, cpuSeconds: 0.002) == 60, "a 2 ms rescan: every minute")
        #expect(InotifyEventSource.rescanGap(interval: 60, cpuSeconds: 0.03) == 60, "30 ms is exactly 0.05 % of a minute")
        #expect(abs(InotifyEventSource.rescanGap(interval: 60, cpuSeconds: 0.09) - 180) < 1e-9, "10,000 folders: every 3 minutes")
        #expect(InotifyEventSource.rescanGap(interval: 300, cpuSeconds: 0.09) == 300, "a longer interval set by hand stands")
        // What a rescan costs at most on average, up to the longest gap (ten intervals): its share of a core.
        for cpu in [0.0, 0.01, 0.1, 0.3] {
            #expect(cpu / InotifyEventSource.rescanGap(interval: 60, cpuSeconds: cpu) <= InotifyEventSource.rescanShare + 1e-12)
        }
        #expect(InotifyEventSource.rescanGap(interval: 60, cpuSeconds: 2) == 600, "never more than ten intervals")
    }
}
