// Routing, request ids, access logs and status mapping.
#include <boost/url/parse.hpp>
#include <chrono>
#include <spdlog/spdlog.h>

#include "api/access_log.h"
#include "api/api.h"
#include "api/handler_util.h"
#include "domain/ids.h"
#include "domain/run_on_pool.h"

namespace codeq::api {
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

http::Response StatusResponse(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk:
      return JsonResponse(200, boost::json::object{});
    case StatusCode::kInvalidArgument:
      return http::ErrorResponse(400, s.message());
    case StatusCode::kUnauthenticated:
      return http::ErrorResponse(401, s.message());
    case StatusCode::kForbidden:
      return http::ErrorResponse(403, s.message());
    case StatusCode::kNotFound:
      return http::ErrorResponse(404, s.message());
    case StatusCode::kConflict:
      return http::ErrorResponse(409, s.message());
    case StatusCode::kPayloadTooLarge:
      return http::ErrorResponse(413, s.message());
    case StatusCode::kUnavailable: {
      auto r = http::ErrorResponse(503, "store unavailable");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case StatusCode::kInternal:
      break;
  }
  return http::ErrorResponse(500, s.message());
}

Api::Api(Scheduler& scheduler, const Authenticator& auth, Metrics& metrics,
         const webhooks::UrlPolicy* url_policy)
    : scheduler_(scheduler), auth_(auth), metrics_(metrics), url_policy_(url_policy) {}

boost::asio::awaitable<Result<Principal>> Api::Authenticate(const http::Request& req, AuthGroup group,
                                                            std::string_view scope) {
  // Authorization is a singleton field (RFC 9110 §11.6.2): with two, a proxy and codeQ could each
  // act on a different one, so neither is used.
  if (req.count(bhttp::field::authorization) > 1) co_return Unauthenticated("invalid Authorization format");
  // Views into `req`, which outlives this call (the HTTP session holds it until the answer).
  const std::string_view authorization = Header(req, "Authorization");
  const std::string_view x_role = Header(req, "X-Role");
  auto authenticate = [this, authorization, x_role, group, scope]() -> Result<Principal> {
    try {  // on the pool, an escaping exception would terminate the process
      switch (group) {
        case AuthGroup::kProducer:
          return auth_.AuthenticateProducer(authorization, x_role);
        case AuthGroup::kWorker:
          return auth_.AuthenticateWorker(authorization, scope);
        case AuthGroup::kAny:
          break;
      }
      return auth_.AuthenticateAny(authorization, x_role);
    } catch (const std::exception& e) {
      return Internal(std::string("auth error: ") + e.what());
    }
  };
  // A token seen before: one parse and one cache lookup (Authenticator::AuthenticateCached).
  try {
    if (auto cached = auth_.AuthenticateCached(authorization, group, scope, x_role)) co_return std::move(*cached);
  } catch (const std::exception& e) {
    co_return Internal(std::string("auth error: ") + e.what());
  }
  if (auth_.AnswersWithoutWaiting(authorization, group)) co_return authenticate();
  auto off_thread = RunOnPool<Result<Principal>>(auth_pool_, std::move(authenticate));
  Result<Principal> who = co_await std::move(off_thread);
  co_return who;
}

Status Api::CheckUrlAllowed(std::string_view url, std::string_view what) const {
  constexpr size_t kMaxUrlBytes = 2048;
  if (url.empty()) return Status::Ok();
  if (url.size() > kMaxUrlBytes) return InvalidArgument(std::string(what) + " url too long (max 2048 bytes)");
  if (url_policy_ == nullptr) return Status::Ok();
  Status s = url_policy_->CheckUrl(url);
  if (s.ok()) return s;
  if (s.message() == "invalid") return InvalidArgument("invalid " + std::string(what) + " url");
  return InvalidArgument(std::string(what) + " url not allowed");
}

namespace {

// A client's X-Request-Id is echoed and logged only when it is 1..128 printable ASCII characters
// (no spaces or control bytes); anything else gets a generated id.
bool UsableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Splits "/a/b%2Fc" into {"a", "b/c"}; nullopt for an undecodable path.
std::optional<std::vector<std::string>> SplitPath(std::string_view path) {
  auto parsed = boost::urls::parse_origin_form(path);
  if (!parsed) return std::nullopt;
  std::vector<std::string> out;
  for (auto seg : parsed->segments()) out.push_back(seg);
  if (out.size() > 1 && out.back().empty()) out.pop_back();  // tolerate one trailing slash
  return out;
}

}  // namespace

namespace {

// The origin form (path and query) of a request target. RFC 9112 §3.2.2: a server must accept the
// absolute form ("http://host/path?q"), which proxies are sent; its authority is not used here
// (nothing is routed by host). "http://host" and "http://host?q" have the path "/"; the latter's
// origin form is built in `storage`, which the result may view.
std::string_view OriginForm(std::string_view target, std::string& storage) {
  if (target.empty() || target.front() == '/') return target;
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return target;
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!beast::iequals(scheme, "http") && !beast::iequals(scheme, "https")) return target;
  const size_t path = target.find_first_of("/?", scheme_end + 3);
  if (path == std::string_view::npos) return "/";
  if (target[path] == '?') {
    storage = "/";
    storage.append(target.substr(path));
    return storage;
  }
  return target.substr(path);
}

}  // namespace

boost::asio::awaitable<http::Response> Api::Handle(const http::Request& req, http::RequestContext& ctx) {
  auto start = std::chrono::steady_clock::now();
  auto rid = req.find("X-Request-Id");
  std::string request_id =
      rid != req.end() && UsableRequestId(rid->value()) ? std::string(rid->value()) : NewRequestId();

  std::string origin_storage;  // see OriginForm; lives as long as the views of it below
  std::string_view target = OriginForm(req.target(), origin_storage);
  std::string_view path_part = target.substr(0, target.find('?'));
  std::string_view query = target.size() > path_part.size() ? target.substr(path_part.size() + 1) : "";
  std::string route = "unmatched";
  http::Response res;
  auto path = SplitPath(path_part);
  if (!path) {
    res = http::ErrorResponse(404, "not found");
  } else {
    res = co_await Dispatch(req, ctx, *path, query, route);
  }
  res.headers.emplace_back("X-Request-Id", request_id);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Beast knows a fixed set of methods; any other name becomes "OTHER", so a client cannot add
  // label values (and log garbage) by inventing method names.
  std::string method = req.method() == bhttp::verb::unknown ? "OTHER" : std::string(req.method_string());
  metrics_.HttpRequest(method, route, res.status, seconds);
  LogAccess(method, route, res.status, seconds * 1000, request_id);
  co_return res;
}

boost::asio::awaitable<http::Response> Api::Dispatch(const http::Request& req, http::RequestContext& ctx,
                                                     const std::vector<std::string>& p,
                                                     std::string_view query, std::string& route) {
  const auto m = req.method();
  // HEAD runs the GET handler; the HTTP layer sends its headers without the body (RFC 9110 §9.3.2).
  const bool get = m == bhttp::verb::get || m == bhttp::verb::head, post = m == bhttp::verb::post;
  // 405 names the methods the route takes (RFC 9110 §15.5.6).
  auto wrong_method = [](const char* allow) {
    http::Response r = http::ErrorResponse(405, "method not allowed");
    r.headers.emplace_back("Allow", allow);
    return r;
  };
  constexpr const char* kGet = "GET, HEAD";
  constexpr const char* kPost = "POST";

  if (p.size() == 1 && (p[0] == "healthz" || p[0] == "readyz")) {
    route = "/" + p[0];
    if (!get) co_return wrong_method(kGet);
    co_return co_await Health();
  }
  if (p.size() == 1 && p[0] == "metrics") {
    route = "/metrics";
    if (!get) co_return wrong_method(kGet);
    co_return co_await MetricsText();
  }
  if (p.size() < 3 || p[0] != "v1" || p[1] != "codeq") co_return http::ErrorResponse(404, "not found");

  if (p[2] == "tasks") {
    if (p.size() == 3) {
      route = "/v1/codeq/tasks";
      if (!post) co_return wrong_method(kPost);
      co_return co_await CreateTask(req);
    }
    if (p.size() == 4 && p[3] == "claim" && post) {
      route = "/v1/codeq/tasks/claim";
      co_return co_await Claim(req, ctx);
    }
    if (p.size() == 4 && p[3] == "batch" && post) {
      route = "/v1/codeq/tasks/batch";
      co_return co_await CreateTasksBatch(req);
    }
    if (p.size() == 5 && p[3] == "results" && p[4] == "batch") {
      route = "/v1/codeq/tasks/results/batch";
      if (!post) co_return wrong_method(kPost);
      co_return co_await SubmitResultsBatch(req);
    }
    if (p.size() == 4 && (p[3] == "claim" || p[3] == "batch") && !get) {
      route = "/v1/codeq/tasks/" + p[3];  // GET (and HEAD) fall through to /tasks/:id
      co_return wrong_method(kPost);
    }
    if (p.size() == 4) {
      route = "/v1/codeq/tasks/:id";
      if (!get) co_return wrong_method(kGet);
      co_return co_await GetTask(req, p[3]);
    }
    if (p.size() == 5) {
      const std::string& id = p[3];
      const std::string& action = p[4];
      if (action == "result") {
        route = "/v1/codeq/tasks/:id/result";
        if (get) co_return co_await GetResult(req, id);
        if (post) co_return co_await SubmitResult(req, id);
        co_return wrong_method("GET, HEAD, POST");
      }
      if (action == "heartbeat" || action == "abandon" || action == "nack") {
        route = "/v1/codeq/tasks/:id/" + action;
        if (!post) co_return wrong_method(kPost);
        if (action == "heartbeat") co_return co_await Heartbeat(req, id);
        if (action == "abandon") co_return co_await Abandon(req, id);
        co_return co_await Nack(req, id);
      }
    }
  } else if (p[2] == "workers" && p.size() >= 4 && p[3] == "subscriptions") {
    if (p.size() == 4) {
      route = "/v1/codeq/workers/subscriptions";
      if (!post) co_return wrong_method(kPost);
      co_return co_await CreateSubscription(req);
    }
    if (p.size() == 6 && p[5] == "heartbeat") {
      route = "/v1/codeq/workers/subscriptions/:id/heartbeat";
      if (!post) co_return wrong_method(kPost);
      co_return co_await RenewSubscription(req, p[4]);
    }
  } else if (p[2] == "admin" && p.size() >= 4) {
    if (p[3] == "queues" && p.size() == 4) {
      route = "/v1/codeq/admin/queues";
      if (!get) co_return wrong_method(kGet);
      co_return co_await AdminQueues(req, query);
    }
    if (p[3] == "queues" && p.size() == 5) {
      route = "/v1/codeq/admin/queues/:command";
      if (!get) co_return wrong_method(kGet);
      co_return co_await AdminQueueStats(req, p[4], query);
    }
    if (p[3] == "tasks" && p.size() == 5 && p[4] == "cleanup") {
      route = "/v1/codeq/admin/tasks/cleanup";
      if (!post) co_return wrong_method(kPost);
      co_return co_await AdminCleanup(req, query);
    }
  }
  co_return http::ErrorResponse(404, "not found");
}

}  // namespace codeq::api
