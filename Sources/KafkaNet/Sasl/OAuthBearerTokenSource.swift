import Synchronization

/// The OAUTHBEARER token of one client, shared by all its connections.
///
/// The provider is called once per token lifetime, not once per connection: the token is
/// cached and refreshed in the background at 80 % of its lifetime (as librdkafka does), so a
/// new connection or a KIP-368 re-authentication finds a fresh token without waiting. Callers
/// that arrive while a refresh runs share that one provider call. A failed background refresh
/// is retried (after 10 s, or half the time left) while the current token is still valid, and
/// that token keeps being used until it expires. A token without `expiresAt` is kept for good.
package final class OAuthBearerTokenSource: Sendable {
    package typealias Provider = @Sendable () async throws -> OAuthBearerToken

    /// Share of the lifetime after which the token is replaced (librdkafka: 80 %).
    static var refreshFraction: Double { 0.8 }
    /// Delay before retrying a failed background refresh (librdkafka: 10 s).
    static var retryDelay: Duration { .seconds(10) }

    private let provider: Provider
    private let state = Mutex(State())

    private struct State {
        var token: OAuthBearerToken?
        /// When the cached token should be replaced; nil = never (no expiry given).
        var refreshAt: ContinuousClock.Instant?
        var fetch: Task<OAuthBearerToken, any Error>?
        var timer: Task<Void, Never>?
        var stopped = false
    }

    package init(provider: @escaping Provider) {
        self.provider = provider
    }

    deinit {
        // The timer holds this source weakly; end its sleep with the source.
        state.withLock { $0.timer?.cancel() }
    }

    /// A token to authenticate with: the cached one before its refresh point, else a fresh one.
    /// If a due refresh fails while the cached token has not expired yet, the cached one is used.
    func token() async throws -> OAuthBearerToken {
        let now = ContinuousClock.now
        let (cached, fetch) = state.withLock { s -> (OAuthBearerToken?, Task<OAuthBearerToken, any Error>?) in
            if let t = s.token, s.refreshAt.map({ now < $0 }) ?? true { return (t, nil) }
            return (s.token, startFetchLocked(&s))
        }
        guard let fetch else { return cached! }
        do {
            return try await fetch.value
        } catch {
            if let c = cached, c.expiresAt.map({ ContinuousClock.now < $0 }) ?? true { return c }
            throw error
        }
    }

    /// Stops background refreshes (the client closed). `token()` still works, without the timer.
    package func stop() {
        let timer = state.withLock { s -> Task<Void, Never>? in
            s.stopped = true
            defer { s.timer = nil }
            return s.timer
        }
        timer?.cancel()
    }

    /// One provider call at a time; its outcome updates the cache and the refresh timer.
    private func startFetchLocked(_ s: inout State) -> Task<OAuthBearerToken, any Error> {
        if let f = s.fetch { return f }
        let provider = self.provider
        let f = Task { [weak self] () async throws -> OAuthBearerToken in
            do {
                let t = try await provider()
                self?.store(t)
                return t
            } catch {
                self?.fetchFailed()
                throw error
            }
        }
        s.fetch = f
        return f
    }

    private func store(_ token: OAuthBearerToken) {
        let now = ContinuousClock.now
        state.withLock { s in
            s.token = token
            s.fetch = nil
            if let expiry = token.expiresAt {
                // Already expired (clock skew, a bad provider): do not cache it at all.
                s.refreshAt = expiry > now ? now + (expiry - now) * Self.refreshFraction : now
                if expiry > now { scheduleLocked(&s, at: s.refreshAt!) }
            } else {
                s.refreshAt = nil
                s.timer?.cancel()
                s.timer = nil
            }
        }
    }

    private func fetchFailed() {
        let now = ContinuousClock.now
        state.withLock { s in
            s.fetch = nil
            // Retry in the background while the current token still works.
            guard let expiry = s.token?.expiresAt, expiry > now else { return }
            scheduleLocked(&s, at: now + min(Self.retryDelay, (expiry - now) / 2))
        }
    }

    private func scheduleLocked(_ s: inout State, at when: ContinuousClock.Instant) {
        s.timer?.cancel()
        s.timer = nil
        guard !s.stopped else { return }
        s.timer = Task { [weak self] in
            try? await Task.sleep(until: when, clock: .continuous)
            guard !Task.isCancelled, let self else { return }
            let fetch = self.state.withLock { s -> Task<OAuthBearerToken, any Error>? in
                s.stopped ? nil : self.startFetchLocked(&s)
            }
            _ = try? await fetch?.value
        }
    }
}
