// SPDX-License-Identifier: GPL-2.0-or-later
import Synchronization

/// Hands the process-global libinotifytools instance to one watcher at a time.
///
/// The library keeps its state in C globals, so two watchers in one process would corrupt each
/// other. A second watcher waits here until the first has stopped and released the library.
enum InotifyInstance {
    private struct State {
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private static let state = Mutex(State())

    /// Waits until the library is free and takes it.
    static func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.held {
                    state.waiters.append(continuation)
                    return false
                }
                state.held = true
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Releases the library, waking the next waiter if any.
    static func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.held = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
