#include "cli/api_client.h"

#include "cli/cli_status.h"

namespace codeq::cli {

Result<std::string> ApiClient::TokenFor(TokenRole role) const {
  const std::string& producer = settings_.producer_token.value;
  const std::string& worker = settings_.worker_token.value;
  switch (role) {
    case TokenRole::kProducer:
      if (!producer.empty()) return producer;
      if (!worker.empty()) return worker;
      return UsageError(
          "a producer token is required: pass --producer-token, set CODEQ_PRODUCER_TOKEN, or run "
          "`codeq auth login` / `codeq auth set` (dev: `codeq token mint --role producer`)");
    case TokenRole::kWorker:
      if (!worker.empty()) return worker;
      if (!producer.empty()) return producer;
      return UsageError(
          "a worker token is required: pass --worker-token, set CODEQ_WORKER_TOKEN, or run "
          "`codeq auth set --worker-token ...` (dev: `codeq token mint --role worker`)");
    case TokenRole::kAdmin:
      if (!settings_.admin_token.value.empty()) return settings_.admin_token.value;
      if (!producer.empty()) return producer;
      return UsageError(
          "an admin token is required: pass --admin-token (or --producer-token), set CODEQ_ADMIN_TOKEN, "
          "or run `codeq auth set` (dev: `codeq token mint --role admin`)");
  }
  return UsageError("unknown token role");
}

Result<ApiResult> ApiClient::Call(const std::string& method, const std::string& path, TokenRole role,
                                  const std::string& body, int64_t timeout_ms, const std::atomic<bool>* cancel) {
  auto token = TokenFor(role);
  if (!token.ok()) return token.status();
  HttpRequest req;
  req.method = method;
  req.url = settings_.base_url.value + path;
  req.headers.emplace_back("Authorization", "Bearer " + *token);
  req.headers.emplace_back("Accept", "application/json");
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  if (settings_.admin) req.headers.emplace_back("X-Role", "ADMIN");
  req.body = body;
  req.timeout_ms = timeout_ms > 0 ? timeout_ms : int64_t{settings_.timeout_seconds} * 1000;
  req.cancel = cancel;
  HttpResponse res = http_.Send(req);
  if (res.cancelled) return RunError("cancelled");
  if (res.status == 0) return RunError("cannot reach " + settings_.base_url.value + ": " + res.error);
  ApiResult out;
  out.status = res.status;
  out.body = std::move(res.body);
  if (!out.body.empty()) {
    boost::system::error_code ec;
    out.json = boost::json::parse(out.body, ec);
    if (ec) out.json = nullptr;
  }
  return out;
}

Result<ApiResult> ApiClient::CallOk(const std::string& method, const std::string& path, TokenRole role,
                                    const std::string& body, int64_t timeout_ms) {
  auto r = Call(method, path, role, body, timeout_ms);
  if (!r.ok()) return r;
  if (r->status >= 300) return RunError(ServerError(*r));
  return r;
}

std::string ServerError(const ApiResult& r) {
  std::string message;
  if (r.json.is_object()) {
    if (const auto* e = r.json.get_object().if_contains("error"); e != nullptr && e->is_string()) {
      message = std::string(e->get_string());
    }
  }
  if (message.empty()) {
    message = r.body.substr(0, 500);
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  }
  std::string out = "error (" + std::to_string(r.status) + ")";
  return message.empty() ? out : out + ": " + message;
}

std::string TaskPath(const std::string& id, const std::string& action) {
  std::string p = "/v1/codeq/tasks/" + EscapeUrlComponent(id);
  return action.empty() ? p : p + "/" + action;
}

}  // namespace codeq::cli
