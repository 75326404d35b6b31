// SPDX-License-Identifier: GPL-2.0-or-later
import Synchronization

/// Gives a database call a hard deadline: the caller gets ``StateStoreError/unavailable(operation:reason:)`` when the
/// call has not answered in time, even if the call itself ignores cancellation.
///
/// A task group would not do: leaving it waits for every child, and a query waiting on a connection whose server went
/// away does not end when cancelled. Here the call runs in a task of its own that is cancelled at the deadline and
/// left to end by itself; the caller resumes at once. Neither task is stored: each ends on its own.
enum CallDeadline {
    /// Runs `body` and returns its result, or throws `unavailable` after `limit` (cancelling `body`).
    static func run<T: Sendable>(
        _ limit: Duration, operation: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    do {
                        race.finish(.success(try await body()))
                    } catch {
                        race.finish(.failure(error))
                    }
                }
                let timer = Task {
                    try await Task.sleep(for: limit)
                    race.finish(.failure(StateStoreError.unavailable(operation: operation, reason: "no answer within \(limit)")))
                }
                race.attach(work: work, timer: timer)
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// The one outcome of a call and its deadline: the first to finish resumes the caller and cancels the other.
    private final class Race<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            /// An outcome that came before the continuation (the caller was cancelled on the way in).
            var pending: Result<T, any Error>?
            var done = false
            var work: Task<Void, Never>?
            var timer: Task<Void, any Error>?
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<T, any Error>) {
            let pending = state.withLock { state -> Result<T, any Error>? in
                guard let pending = state.pending else {
                    state.continuation = continuation
                    return nil
                }
                state.pending = nil
                return pending
            }
            if let pending { continuation.resume(with: pending) }
        }

        func attach(work: Task<Void, Never>, timer: Task<Void, any Error>) {
            let done = state.withLock { state in
                if !state.done {
                    state.work = work
                    state.timer = timer
                }
                return state.done
            }
            if done {
                work.cancel()
                timer.cancel()
            }
        }

        func finish(_ outcome: Result<T, any Error>) {
            typealias Taken = (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Task<Void, any Error>?)
            let (continuation, work, timer) = state.withLock { state -> Taken in
                guard !state.done else { return (nil, nil, nil) }
                state.done = true
                let taken = (state.continuation, state.work, state.timer)
                if state.continuation == nil { state.pending = outcome }
                state.continuation = nil
                state.work = nil
                state.timer = nil
                return taken
            }
            continuation?.resume(with: outcome)
            work?.cancel()
            timer?.cancel()
        }
    }
}
