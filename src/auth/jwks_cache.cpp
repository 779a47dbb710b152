// JWKS parsing and the rotation-aware key cache (SPEC D13).
#include "auth/jwks_cache.h"

#include <boost/json.hpp>
#include <system_error>

#include "auth/http_fetch.h"

namespace codeq {

namespace {

/// The string member `name` of `obj`, or nullptr when absent or not a string.
const boost::json::string* StringMember(const boost::json::object& obj, std::string_view name) {
  const boost::json::value* v = obj.if_contains(name);
  return v ? v->if_string() : nullptr;
}

}  // namespace

Result<std::map<std::string, PkeyPtr, std::less<>>> ParseJwks(std::string_view json) {
  try {
    boost::json::error_code ec;
    boost::json::value doc = boost::json::parse(json, ec);
    if (ec) return InvalidArgument("jwks: invalid JSON");
    const boost::json::object* root = doc.if_object();
    const boost::json::value* keys_value = root ? root->if_contains("keys") : nullptr;
    const boost::json::array* keys = keys_value ? keys_value->if_array() : nullptr;
    if (keys == nullptr) return InvalidArgument("jwks: missing keys array");

    std::map<std::string, PkeyPtr, std::less<>> out;
    for (const boost::json::value& entry : *keys) {
      const boost::json::object* jwk = entry.if_object();
      if (jwk == nullptr) continue;
      const auto* kty = StringMember(*jwk, "kty");
      const auto* kid = StringMember(*jwk, "kid");
      const auto* n = StringMember(*jwk, "n");
      const auto* e = StringMember(*jwk, "e");
      if (!kty || *kty != "RSA" || !kid || kid->empty() || !n || !e) continue;
      if (const boost::json::value* use = jwk->if_contains("use")) {
        if (!use->is_string() || use->get_string() != "sig") continue;  // encryption keys
      }
      std::string kid_str(kid->data(), kid->size());
      if (out.count(kid_str) != 0) continue;
      auto key = RsaPublicKeyFromJwk(std::string_view(n->data(), n->size()),
                                     std::string_view(e->data(), e->size()));
      if (!key.ok()) continue;
      out.emplace(std::move(kid_str), std::move(key).value());
    }
    return out;
  } catch (...) {  // allocation failure inside the parser
    return InvalidArgument("jwks: invalid document");
  }
}

JwksCache::JwksCache(std::string url, int64_t http_timeout_ms, const Clock& clock,
                     int64_t refresh_interval_ms, int64_t unknown_kid_refetch_interval_ms)
    : url_(std::move(url)),
      http_timeout_ms_(http_timeout_ms),
      clock_(clock),
      refresh_interval_ms_(refresh_interval_ms),
      unknown_kid_interval_ms_(unknown_kid_refetch_interval_ms) {}

JwksCache::~JwksCache() {
  WaitForBackgroundRefresh();
  if (refresher_.joinable()) refresher_.join();
  if (retired_.joinable()) retired_.join();
}

Result<PkeyPtr> JwksCache::GetKey(std::string_view kid) {
  if (kid.empty()) return Unauthenticated("unknown key id");
  {  // Fast path: a loaded set that has the key; a stale one is refreshed in the background.
    std::lock_guard lock(mu_);
    if (loaded_) {
      auto it = keys_.find(kid);
      if (it != keys_.end()) {
        int64_t now = clock_.NowMs();
        if (now - last_success_ms_ >= refresh_interval_ms_) StartBackgroundRefreshLocked(now);
        return it->second;
      }
    }
  }

  std::lock_guard fetch_lock(fetch_mu_);
  FetchKind kind = FetchKind::kNone;
  {  // Decide again: another thread may have fetched while we waited for fetch_mu_.
    std::lock_guard lock(mu_);
    int64_t now = clock_.NowMs();
    bool stale = !loaded_ || now - last_success_ms_ >= refresh_interval_ms_;
    auto it = keys_.find(kid);
    if (!stale && it != keys_.end()) return it->second;
    if (stale) {
      bool backing_off = failed_since_success_ && now - last_failure_ms_ < kFailedFetchRetryMs;
      if (!backing_off) kind = FetchKind::kPeriodic;
    } else if (!unknown_kid_fetched_ || now - last_unknown_kid_fetch_ms_ >= unknown_kid_interval_ms_) {
      // The attempt counts against the limit whatever its outcome, so a flood of random kids
      // costs at most one fetch per interval.
      kind = FetchKind::kUnknownKid;
      unknown_kid_fetched_ = true;
      last_unknown_kid_fetch_ms_ = now;
    }
  }
  if (kind != FetchKind::kNone) (void)FetchLocked();  // failures leave the previous set in place

  std::lock_guard lock(mu_);
  if (!loaded_) return Unavailable("jwks unavailable");
  auto it = keys_.find(kid);
  if (it == keys_.end()) return Unauthenticated("unknown key id");
  return it->second;
}

void JwksCache::StartBackgroundRefreshLocked(int64_t now_ms) {
  if (refreshing_) return;
  if (failed_since_success_ && now_ms - last_failure_ms_ < kFailedFetchRetryMs) return;
  // The previous refresher cleared refreshing_ as its last step. The new one joins it, so no
  // request thread waits for a thread to exit while holding mu_.
  if (refresher_.joinable()) retired_ = std::move(refresher_);
  refreshing_ = true;
  try {
    refresher_ = std::thread([this] { RefreshInBackground(); });
  } catch (const std::system_error&) {
    // No thread to be had (resource limits): the cached key is served; a later request retries.
    refreshing_ = false;
    refreshed_.notify_all();
  }
}

void JwksCache::RefreshInBackground() {
  std::thread previous;
  {
    std::lock_guard lock(mu_);
    previous = std::move(retired_);
  }
  if (previous.joinable()) previous.join();
  try {
    std::lock_guard fetch_lock(fetch_mu_);
    std::unique_lock lock(mu_);
    // A blocking fetch may have refreshed the set (or failed, which starts the retry pause) while
    // this thread waited for fetch_mu_.
    int64_t now = clock_.NowMs();
    bool stale = now - last_success_ms_ >= refresh_interval_ms_;
    bool backing_off = failed_since_success_ && now - last_failure_ms_ < kFailedFetchRetryMs;
    lock.unlock();
    if (stale && !backing_off) (void)FetchLocked();  // a failure keeps the previous set
  } catch (...) {
    // Out of memory during the fetch: the previous set stays; the next stale request retries.
  }
  std::lock_guard lock(mu_);
  refreshing_ = false;
  refreshed_.notify_all();
}

bool JwksCache::HasKey(std::string_view kid) const {
  std::lock_guard lock(mu_);
  return loaded_ && keys_.find(kid) != keys_.end();
}

void JwksCache::WaitForBackgroundRefresh() {
  std::unique_lock lock(mu_);
  refreshed_.wait(lock, [this] { return !refreshing_; });
}

Status JwksCache::Prefetch() {
  std::lock_guard fetch_lock(fetch_mu_);
  return FetchLocked();
}

Status JwksCache::FetchLocked() {
  {
    std::lock_guard lock(mu_);
    ++fetch_count_;
  }
  Result<std::string> body = HttpGet(url_, http_timeout_ms_);
  Status status = body.status();
  std::map<std::string, PkeyPtr, std::less<>> keys;
  if (status.ok()) {
    auto parsed = ParseJwks(*body);
    if (parsed.ok()) keys = std::move(parsed).value();
    else status = parsed.status();
  }

  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  if (!status.ok()) {
    failed_since_success_ = true;
    last_failure_ms_ = now;
    return status;
  }
  keys_ = std::move(keys);
  loaded_ = true;
  last_success_ms_ = now;
  failed_since_success_ = false;
  return Status::Ok();
}

int64_t JwksCache::FetchCount() const {
  std::lock_guard lock(mu_);
  return fetch_count_;
}

size_t JwksCache::KeyCount() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

}  // namespace codeq
