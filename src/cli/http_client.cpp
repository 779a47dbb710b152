#include "cli/http_client.h"

#include <curl/curl.h>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <mutex>

namespace codeq::cli {

namespace {

constexpr size_t kMaxBody = 64u << 20;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  std::string body;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t n = size * nmemb;
  if (sink->body.size() + n > kMaxBody) {
    sink->too_large = true;
    return 0;
  }
  sink->body.append(data, n);
  return n;
}

struct Cancel {
  const std::atomic<bool>* flag;
  CURL* handle;
};

// Aborts the transfer once the cancel flag is set, unless the answer has started to arrive: that
// answer is read to its end, so a long-poll claim answered with a task is never thrown away (the
// task would stay leased to nobody until its lease expired).
int Progress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* cancel = static_cast<const Cancel*>(user);
  if (!cancel->flag->load()) return 0;
  long status = 0;
  curl_easy_getinfo(cancel->handle, CURLINFO_RESPONSE_CODE, &status);
  return status == 0 && dlnow == 0 ? 1 : 0;
}

}  // namespace

struct HttpClient::Impl {
  CURL* curl = nullptr;
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  GlobalInitOnce();
  impl_->curl = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (impl_->curl != nullptr) curl_easy_cleanup(impl_->curl);
}

HttpResponse HttpClient::Send(const HttpRequest& req) {
  HttpResponse out;
  CURL* h = impl_->curl;
  if (h == nullptr) {
    out.error = "curl init failed";
    return out;
  }
  curl_easy_reset(h);
  Sink sink;
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : req.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for large bodies
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  bool with_body = !req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (with_body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (req.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout_ms > 0 ? req.timeout_ms : 30000));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "codeq-cli/" CODEQ_VERSION);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &WriteBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  Cancel cancel{req.cancel, h};
  if (req.cancel != nullptr) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &cancel);
  }

  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    out.cancelled = true;
    out.error = "cancelled";
    return out;
  }
  if (sink.too_large) {
    out.error = "response too large";
    return out;
  }
  if (rc != CURLE_OK) {
    out.error = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : curl_easy_strerror(rc);
    return out;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  out.status = static_cast<int>(status);
  out.body = std::move(sink.body);
  return out;
}

std::string EscapeUrlComponent(const std::string& text) {
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

}  // namespace codeq::cli
