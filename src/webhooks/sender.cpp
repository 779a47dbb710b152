#include "webhooks/sender.h"

#include <curl/curl.h>
#include <netdb.h>

#include <memory>
#include <mutex>
#include <vector>

#include "domain/run_on_pool.h"
#include "webhooks/signing.h"

namespace codeq::webhooks {
namespace {

struct CurlHandle {
  CURL* h = curl_easy_init();
  ~CurlHandle() { curl_easy_cleanup(h); }
};
struct CurlList {
  curl_slist* l = nullptr;
  void Add(const std::string& s) { l = curl_slist_append(l, s.c_str()); }
  ~CurlList() { curl_slist_free_all(l); }
};

struct Sink {
  size_t limit = 0, seen = 0;
  bool overflow = false;
};

// Reads at most `limit` bytes of the receiver's answer, then aborts the transfer.
size_t OnBody(char*, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  sink->seen += size * n;
  if (sink->seen > sink->limit) {
    sink->overflow = true;
    return 0;
  }
  return size * n;
}

int OnProgress(void* stopping, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(stopping)->load() ? 1 : 0;
}

// The addresses of host:port that the policy allows, as text for CURLOPT_RESOLVE; or an error.
Result<std::string> ResolveAllowed(const UrlPolicy& policy, const UrlTarget& t) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(t.host.c_str(), std::to_string(t.port).c_str(), &hints, &res);
  if (rc != 0) return Unavailable(std::string("cannot resolve host: ") + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  std::string allowed;
  bool any = false;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    if (!policy.AllowsAddress(t.host, a->ai_addr)) continue;
    char text[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) != 0) continue;
    std::string addr = text;
    if (addr.find(':') != std::string::npos) addr = "[" + addr + "]";
    if (allowed.find(addr) != std::string::npos) continue;
    allowed += (any ? "," : "") + addr;
    any = true;
  }
  if (!any) return Forbidden("address denied by webhook policy");
  return allowed;
}

}  // namespace

Sender::Sender(UrlPolicy policy, SenderOptions options, const Clock& clock)
    : policy_(std::move(policy)), options_(std::move(options)), clock_(clock),
      pool_(static_cast<size_t>(std::max(1, options_.concurrency))) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Sender::~Sender() { Stop(); }

void Sender::Stop() {
  stopping_.store(true);
  pool_.join();
}

boost::asio::awaitable<PostOutcome> Sender::Post(std::string url, std::string body) {
  if (stopping_.load()) co_return PostOutcome{false, 0, "shutting down", true};
  pending_.fetch_add(1);
  auto work = [this, url = std::move(url), body = std::move(body)] {
    PostOutcome out = PostBlocking(url, body);
    pending_.fetch_sub(1);
    return out;
  };
  co_return co_await RunOnPool<PostOutcome>(pool_, std::move(work));
}

PostOutcome Sender::PostBlocking(const std::string& url, const std::string& body) {
  if (stopping_.load()) return PostOutcome{false, 0, "shutting down", true};
  auto target = ParseHttpUrl(url);
  if (!target.ok()) return PostOutcome{false, 0, "invalid url: " + target.status().message(), false, true};
  auto addresses = ResolveAllowed(policy_, *target);
  if (!addresses.ok()) {
    bool denied = addresses.status().code() == StatusCode::kForbidden;
    return PostOutcome{false, 0, addresses.status().message(), false, denied};
  }

  CurlHandle curl;
  if (curl.h == nullptr) return PostOutcome{false, 0, "curl init failed"};
  CurlList resolve, headers;
  // Pin curl to the checked addresses. An IP literal needs no resolving (and curl would not use
  // the entry for a bracketed IPv6 host anyway).
  if (!ParseIp(target->host)) resolve.Add(target->host + ":" + std::to_string(target->port) + ":" + *addresses);
  int64_t ts = clock_.NowSeconds();
  headers.Add("Content-Type: application/json");
  headers.Add("Expect:");
  headers.Add("User-Agent: codeq/" CODEQ_VERSION);
  if (!options_.hmac_secret.empty()) {
    headers.Add("X-CodeQ-Timestamp: " + std::to_string(ts));
    headers.Add("X-CodeQ-Signature: " + SignWebhook(options_.hmac_secret, ts, body));
  }
  Sink sink{options_.max_response_bytes};
  curl_easy_setopt(curl.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.h, CURLOPT_FOLLOWLOCATION, 0L);
  if (resolve.l != nullptr) curl_easy_setopt(curl.h, CURLOPT_RESOLVE, resolve.l);
  curl_easy_setopt(curl.h, CURLOPT_HTTPHEADER, headers.l);
  curl_easy_setopt(curl.h, CURLOPT_POST, 1L);
  curl_easy_setopt(curl.h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl.h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl.h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl.h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout_ms));
  curl_easy_setopt(curl.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(curl.h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl.h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl.h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl.h, CURLOPT_XFERINFODATA, &stopping_);
  CURLcode rc = curl_easy_perform(curl.h);
  long status = 0;
  curl_easy_getinfo(curl.h, CURLINFO_RESPONSE_CODE, &status);
  PostOutcome out;
  out.http_status = static_cast<int>(status);
  bool answered = rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && sink.overflow);
  if (!answered) {
    out.http_status = 0;
    out.aborted = rc == CURLE_ABORTED_BY_CALLBACK;
    out.error = curl_easy_strerror(rc);
  } else if (status >= 200 && status < 300) {
    out.delivered = true;
  } else {
    out.error = "HTTP " + std::to_string(status);
  }
  return out;
}

}  // namespace codeq::webhooks
