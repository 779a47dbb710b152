// libcurl easy-handle GET with a timeout and a body-size cap.
#include "auth/http_fetch.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <string_view>

namespace codeq {

namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  std::string body;
  size_t max_bytes = 0;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  if (sink->body.size() + n > sink->max_bytes) {
    sink->too_large = true;
    return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
  }
  sink->body.append(data, n);
  return n;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

}  // namespace

Result<std::string> HttpGet(const std::string& url, int64_t timeout_ms, size_t max_bytes) {
  GlobalInitOnce();
  bool is_file = StartsWithNoCase(url, "file:");
  if (!is_file && !StartsWithNoCase(url, "http://") && !StartsWithNoCase(url, "https://")) {
    return Unavailable("fetch: unsupported URL scheme");
  }
  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return Unavailable("fetch: curl init failed");
  Sink sink;
  sink.max_bytes = max_bytes;
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 3L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms > 0 ? timeout_ms : 5000));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // required when used from several threads
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "codeq-jwks/1");

  CURLcode rc = curl_easy_perform(h);
  if (sink.too_large) return Unavailable("fetch: response too large");
  if (rc == CURLE_OPERATION_TIMEDOUT) return Unavailable("fetch: timeout");
  if (rc != CURLE_OK) return Unavailable(std::string("fetch: ") + curl_easy_strerror(rc));
  if (!is_file) {
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return Unavailable("fetch: HTTP status " + std::to_string(status));
  }
  return std::move(sink.body);
}

}  // namespace codeq
