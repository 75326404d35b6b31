// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import Testing

@Suite struct JobStateTests {
    @Test func rawValuesAreTheStoredNames() {
        #expect(JobState.allCases.map(\.rawValue) == [
            "ready", "uploading", "submitting", "submitted", "running", "downloading", "done",
            "invalid", "failed", "uncertain", "held", "cancelled",
        ])
        #expect(JobState(rawValue: "uncertain") == .uncertain)
    }

    @Test func happyPathIsLegal() {
        let path: [JobState] = [.ready, .uploading, .submitting, .submitted, .running, .downloading, .done]
        for (from, to) in zip(path, path.dropFirst()) {
            #expect(JobState.isLegal(from: from, to: to), "\(from) → \(to)")
        }
        #expect(JobState.ready.canTransition(to: .submitting), "text-to-video skips uploading")
        #expect(JobState.submitted.canTransition(to: .downloading), "a task may succeed before it is seen running")
    }

    @Test(arguments: [
        (JobState.done, JobState.ready), (.ready, .submitted), (.submitted, .submitting), (.running, .submitted),
        (.invalid, .ready), (.ready, .running), (.uncertain, .running), (.held, .submitting),
        (.downloading, .running), (.ready, .ready),
    ])
    func illegalMovesAreRefused(from: JobState, to: JobState) {
        #expect(!JobState.isLegal(from: from, to: to))
    }

    @Test func uncertainIsNeverLeftForASilentResubmitOnly() {
        #expect(JobState.submitting.canTransition(to: .uncertain))
        #expect(JobState.uncertain.successors == [.submitting, .submitted, .ready, .failed, .cancelled])
    }

    @Test func everyStateIsInTheTableAndEveryLiveStateCanBeCancelledOrFailed() {
        for state in JobState.allCases {
            #expect(JobState.transitions[state] != nil, "\(state)")
            #expect(!state.canTransition(to: state), "\(state) has a self loop")
            if !state.isTerminal {
                #expect(state.canTransition(to: .cancelled), "\(state)")
                #expect(state.canTransition(to: .failed), "\(state)")
            }
        }
    }

    @Test func terminalAndInFlight() {
        #expect(JobState.allCases.filter(\.isTerminal) == [.done, .invalid, .failed, .cancelled])
        #expect(JobState.allCases.filter(\.isInFlight) == [.submitted, .running, .downloading])
        #expect(JobState.done.successors.isEmpty && JobState.invalid.successors.isEmpty)
        #expect(JobState.failed.successors == [.ready], "only an explicit retry leaves failed")
    }
}
