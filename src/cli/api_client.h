// The codeQ HTTP API as the CLI calls it (SPEC §2): base URL, bearer token per role, the dev
// X-Role header, and server errors turned into "error (<status>): <server message>".
#pragma once

#include <boost/json.hpp>

#include <atomic>
#include <cstdint>
#include <string>

#include "cli/http_client.h"
#include "cli/settings.h"
#include "domain/status.h"

namespace codeq::cli {

/// Which token a call uses (SPEC §9.3): producer calls fall back to the worker token and vice versa;
/// admin calls use the admin token, else the producer token.
enum class TokenRole { kProducer, kWorker, kAdmin };

struct ApiResult {
  int status = 0;
  std::string body;
  boost::json::value json;  // the body parsed as JSON; null when empty or not JSON
};

/// One client per thread (it owns an HttpClient).
class ApiClient {
 public:
  explicit ApiClient(const ClientSettings& settings) : settings_(settings) {}

  /// The token `role` uses; UsageError (exit 2) naming the flag/variable to set when there is none.
  Result<std::string> TokenFor(TokenRole role) const;

  /// Sends `method base+path` with the role's token (a JSON body when non-empty). Any HTTP status
  /// is returned as a value. Errors: UsageError without a token; RunError("cannot reach <url>: ...")
  /// on transport failure; RunError("cancelled") when `cancel` turned true. `timeout_ms` ≤ 0 = the
  /// settings' --timeout.
  Result<ApiResult> Call(const std::string& method, const std::string& path, TokenRole role,
                         const std::string& body = "", int64_t timeout_ms = 0,
                         const std::atomic<bool>* cancel = nullptr);

  /// Call, then any status ≥ 300 becomes RunError(ServerError(result)).
  Result<ApiResult> CallOk(const std::string& method, const std::string& path, TokenRole role,
                           const std::string& body = "", int64_t timeout_ms = 0);

  const ClientSettings& settings() const { return settings_; }

 private:
  const ClientSettings& settings_;
  HttpClient http_;
};

/// "error (<status>): <message>" where message is the body's "error" member, else the body text
/// (truncated to 500 bytes).
std::string ServerError(const ApiResult& r);

/// "/v1/codeq/tasks/<escaped id>[/<action>]".
std::string TaskPath(const std::string& id, const std::string& action = "");

}  // namespace codeq::cli
