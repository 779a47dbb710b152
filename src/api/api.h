// The HTTP API of SPEC.md §2: routing, authentication, decoding, status mapping.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>
#include <vector>

#include "auth/authenticator.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "service/scheduler.h"
#include "webhooks/url_policy.h"

namespace codeq::api {

/// Maps a Status to its HTTP response (SPEC D8): 400/401/403/404/409/413, 503 with Retry-After: 1
/// and body "store unavailable" for kUnavailable, 500 for kInternal.
http::Response StatusResponse(const Status& s);

/// The request handler behind http::HttpServer. One instance per server; thread-safe.
class Api {
 public:
  /// `url_policy` (may be null = any http/https URL) decides which webhook and callbackUrl hosts
  /// are accepted at create time (issue 5); it must outlive the Api.
  Api(Scheduler& scheduler, const Authenticator& auth, Metrics& metrics,
      const webhooks::UrlPolicy* url_policy = nullptr);

  /// Routes one request, echoes or generates X-Request-Id, records metrics and an access log line.
  /// `ctx` is the request's connection (a long-poll claim watches it for the client going away).
  boost::asio::awaitable<http::Response> Handle(const http::Request& req, http::RequestContext& ctx);

 private:
  using Awaitable = boost::asio::awaitable<http::Response>;
  Awaitable Dispatch(const http::Request& req, http::RequestContext& ctx, const std::vector<std::string>& path,
                     std::string_view query, std::string& route);

  Awaitable CreateTask(const http::Request& req);
  Awaitable GetTask(const http::Request& req, const std::string& id);
  Awaitable GetResult(const http::Request& req, const std::string& id);
  /// SPEC §2.4 (+ maxTasks, issue 7). A long poll (waitSeconds > 0) watches the connection: when
  /// the client goes away the poll stops, tasks it had just claimed are abandoned, and the request
  /// ends as 499 {"error":"client closed request"} (logged and counted, never written).
  Awaitable Claim(const http::Request& req, http::RequestContext& ctx);
  Awaitable Heartbeat(const http::Request& req, const std::string& id);
  Awaitable Abandon(const http::Request& req, const std::string& id);
  Awaitable Nack(const http::Request& req, const std::string& id);
  Awaitable SubmitResult(const http::Request& req, const std::string& id);
  Awaitable CreateTasksBatch(const http::Request& req);    // batch_handlers.cpp
  Awaitable SubmitResultsBatch(const http::Request& req);  // batch_handlers.cpp
  Awaitable CreateSubscription(const http::Request& req);                    // subscription_handlers.cpp
  Awaitable RenewSubscription(const http::Request& req, const std::string& id);  // subscription_handlers.cpp
  Awaitable AdminQueues(const http::Request& req, std::string_view query);
  Awaitable AdminQueueStats(const http::Request& req, const std::string& command, std::string_view query);
  Awaitable AdminCleanup(const http::Request& req, std::string_view query);
  Awaitable Health();
  Awaitable MetricsText();

  /// The principal of `req`'s Authorization (and X-Role) header for an endpoint group, with
  /// `scope` (a string literal: it is kept across the suspension) required for workers
  /// (Authenticator). Computed inline when no validator has to wait for the network; otherwise on
  /// auth_pool_, so that a JWKS fetch (up to its HTTP timeout: a first load, or a kid not seen
  /// before) never holds up the other connections of an I/O thread.
  boost::asio::awaitable<Result<Principal>> Authenticate(const http::Request& req, AuthGroup group,
                                                         std::string_view scope = {});

  /// Producer auth + admin check; the tenant an admin looks at (D6: own, or ?tenant= when the
  /// admin token has no tenant).
  boost::asio::awaitable<Result<std::string>> AdminTenant(const http::Request& req, std::string_view query,
                                                          bool& all_tenants);
  /// AdminTenant's check of an authenticated principal.
  Result<std::string> AdminTenantOf(const Result<Principal>& who, std::string_view query, bool& all_tenants);

  /// For a non-empty webhook/callback `url`: InvalidArgument "<what> url too long (max 2048
  /// bytes)", "invalid <what> url" (e.g. port out of range), or "<what> url not allowed" (denied
  /// by the UrlPolicy); Ok otherwise.
  Status CheckUrlAllowed(std::string_view url, std::string_view what) const;

  Scheduler& scheduler_;
  const Authenticator& auth_;
  Metrics& metrics_;
  const webhooks::UrlPolicy* url_policy_;
  /// Token validations that may wait for a JWKS fetch (Authenticate). Two threads: a JWKS
  /// endpoint that hangs holds at most these (and delays other new kids queued behind them),
  /// never an I/O thread.
  boost::asio::thread_pool auth_pool_{2};
};

}  // namespace codeq::api
