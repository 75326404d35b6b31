// SPDX-License-Identifier: GPL-2.0-or-later
import Synchronization

/// Wakes a loop that waits for work: a signal sent while nobody waits is kept until the next wait.
///
/// One loop waits at a time. Loops wait with a timeout so that time-based work (retries, polls)
/// happens even without a signal.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: (id: UInt64, continuation: CheckedContinuation<Void, Never>)?
        /// A wait that ended (timeout or cancellation) before its continuation was registered.
        var ended: UInt64?
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Wakes the waiting loop, or makes its next wait return at once.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter.continuation
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns after a signal, after `timeout` seconds, or when the task is cancelled.
    func wait(timeout: Double) async {
        let id = state.withLock { state -> UInt64? in
            if state.pending {
                state.pending = false
                return nil
            }
            state.nextID &+= 1
            return state.nextID
        }
        guard let id else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                try? await Task.sleep(for: .seconds(max(0.001, timeout)))
                self.end(id)
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow = self.state.withLock { state -> Bool in
                            if state.pending || state.ended == id {
                                state.pending = false
                                return true
                            }
                            state.waiter = (id, continuation)
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.end(id)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Ends wait `id` (timeout or cancellation) without leaving a signal behind.
    private func end(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter, waiter.id == id {
                state.waiter = nil
                return waiter.continuation
            }
            state.ended = id
            return nil
        }
        waiter?.resume()
    }
}
