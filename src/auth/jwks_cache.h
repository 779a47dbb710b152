// JWKS fetch and key cache with kid rotation (SPEC §3.2 step 2, D13).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "auth/rsa_key.h"
#include "domain/clock.h"
#include "domain/status.h"

namespace codeq {

/// Parses a JWKS document `{"keys":[{"kid","kty":"RSA","n","e"}, ...]}` into kid → RSA public key.
/// Entries that are not RSA, have `use` other than "sig", lack a string kid/n/e, or carry an
/// unusable key are skipped; the first entry wins for a duplicated kid. InvalidArgument when the
/// text is not JSON or has no `keys` array. Never throws.
Result<std::map<std::string, PkeyPtr, std::less<>>> ParseJwks(std::string_view json);

/// Caches the RSA keys of one JWKS URL (SPEC D13):
/// - the whole set is refetched when the last successful fetch is older than `refresh_interval_ms`
///   (or there never was one); if that refresh fails, the previous keys keep being served. A
///   request whose kid is in the (stale) set gets its key at once and the refresh runs on a
///   background thread, so a slow or unreachable JWKS endpoint never holds up requests signed
///   with a known key; only a first load and a kid missing from the set wait for a fetch;
/// - a kid missing from a fresh set triggers a refetch, at most once per
///   `unknown_kid_refetch_interval_ms` (the initial load and periodic refreshes don't count, so a
///   freshly rotated key works on its first request);
/// - after a failed fetch, the next periodic/initial fetch waits `kFailedFetchRetryMs`, so an
///   unreachable JWKS endpoint is not hammered by every request.
/// Fetches go through HttpGet with `http_timeout_ms`; one fetch at a time. Thread-safe.
class JwksCache {
 public:
  /// Minimum pause after a failed fetch before the next initial/periodic attempt, in ms.
  static constexpr int64_t kFailedFetchRetryMs = 1000;

  /// `url`: http(s):// or file:// URL of the JWKS. `clock` must outlive the cache.
  JwksCache(std::string url, int64_t http_timeout_ms, const Clock& clock,
            int64_t refresh_interval_ms = 300000, int64_t unknown_kid_refetch_interval_ms = 30000);

  /// Waits for a background refresh still running (at most about http_timeout_ms; at shutdown
  /// this can add up to the JWKS HTTP timeout to the exit).
  ~JwksCache();
  JwksCache(const JwksCache&) = delete;
  JwksCache& operator=(const JwksCache&) = delete;

  /// The key with this kid. Errors: Unauthenticated("unknown key id") when the (refreshed) set
  /// has no such RSA key; Unavailable("jwks unavailable") when no key set could ever be loaded.
  /// Blocks on a fetch (up to about http_timeout_ms) only when the set was never loaded or lacks
  /// the kid; a known kid with a stale set starts a background refresh and returns at once.
  Result<PkeyPtr> GetKey(std::string_view kid);

  /// Whether GetKey(kid) answers at once: a key set is loaded and has `kid` (a stale set is then
  /// refreshed in the background). Never fetches. O(log keys).
  bool HasKey(std::string_view kid) const;

  /// Waits until no background refresh is running (tests; a refresh ends within about
  /// http_timeout_ms).
  void WaitForBackgroundRefresh();

  /// Loads the key set now (start-up). Counts as a periodic fetch, not an unknown-kid one.
  /// Unavailable/InvalidArgument with a short reason when the fetch or parse fails.
  Status Prefetch();

  /// Number of fetch attempts so far (successful or not); for tests and metrics.
  int64_t FetchCount() const;

  /// Number of keys currently cached.
  size_t KeyCount() const;

 private:
  enum class FetchKind { kNone, kPeriodic, kUnknownKid };

  /// Fetches and parses the JWKS; on success swaps the key set in. Caller holds fetch_mu_.
  Status FetchLocked();
  /// Starts the background refresh of a stale set unless one runs or failures are backing off.
  /// Caller holds mu_. Never throws: without a thread, the cached key is still served.
  void StartBackgroundRefreshLocked(int64_t now_ms);
  /// The refresher thread's body: joins the previous refresher, fetches unless the set became
  /// fresh or failures are backing off meanwhile, then clears refreshing_.
  void RefreshInBackground();

  const std::string url_;
  const int64_t http_timeout_ms_;
  const Clock& clock_;
  const int64_t refresh_interval_ms_;
  const int64_t unknown_kid_interval_ms_;

  std::mutex fetch_mu_;  // serialises fetches; taken before mu_, never while holding it
  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, PkeyPtr, std::less<>> keys_;
  bool loaded_ = false;
  int64_t last_success_ms_ = 0;
  int64_t last_failure_ms_ = 0;
  bool failed_since_success_ = false;
  int64_t last_unknown_kid_fetch_ms_ = 0;
  bool unknown_kid_fetched_ = false;
  int64_t fetch_count_ = 0;
  bool refreshing_ = false;            // a background refresh runs on refresher_
  std::condition_variable refreshed_;  // signalled (under mu_) when it ends
  std::thread refresher_;
  std::thread retired_;  // a finished refresher, joined by the next one (or the destructor)
};

}  // namespace codeq
