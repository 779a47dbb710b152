#include "cli/auth_login.h"

#include <algorithm>
#include <cctype>

#include "cli/cli_status.h"

namespace codeq::cli {
namespace json = boost::json;

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string JsonInner(const std::string& v) {
  std::string quoted = json::serialize(json::string(v));
  return quoted.substr(1, quoted.size() - 2);
}

std::string Snippet(const std::string& body) {
  std::string s = body.size() > 500 ? body.substr(0, 500) + "..." : body;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

HeaderList Headers(const TemplateHeaders& headers, const TemplateValues& values, Status& error) {
  HeaderList out;
  for (const auto& [k, v] : headers) {
    auto rendered = RenderTemplate(v, values, Escape::kNone);
    if (!rendered.ok()) {
      error = rendered.status();
      return {};
    }
    out.emplace_back(k, *rendered);
  }
  return out;
}

bool HasHeader(const HeaderList& headers, const std::string& name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return Lower(h.first) == Lower(name); });
}

// Sends one identity-service request and extracts the token; `what` names the step in errors.
Result<std::string> Exchange(HttpClient& http, HttpRequest req, const std::string& content_type,
                             const std::string& token_path, const std::string& what) {
  if (!content_type.empty() && !HasHeader(req.headers, "Content-Type")) {
    req.headers.emplace_back("Content-Type", content_type);
  }
  if (!HasHeader(req.headers, "Accept")) req.headers.emplace_back("Accept", "application/json");
  HttpResponse res = http.Send(req);
  if (res.status == 0) return RunError(what + " failed: " + req.url + ": " + res.error);
  if (res.status < 200 || res.status >= 300) {
    return RunError(what + " failed (" + std::to_string(res.status) + "): " + Snippet(res.body));
  }
  boost::system::error_code ec;
  json::value doc = json::parse(res.body, ec);
  if (ec) return RunError(what + " response is not JSON: " + Snippet(res.body));
  auto token = StringAtPath(doc, token_path);
  if (!token || token->empty()) return RunError(what + " response has no string at '" + token_path + "'");
  return *token;
}

}  // namespace

Result<std::string> RenderTemplate(const std::string& text, const TemplateValues& values, Escape escape) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{{", pos);
    if (open == std::string::npos) {
      out.append(text, pos, std::string::npos);
      return out;
    }
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) return UsageError("unclosed '{{' in template: " + text);
    out.append(text, pos, open - pos);
    std::string name = text.substr(open + 2, close - open - 2);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    auto it = values.find(name);
    if (it == values.end()) {
      std::string known;
      for (const auto& [k, v] : values) known += (known.empty() ? "" : ", ") + ("{{" + k + "}}");
      return UsageError("unknown placeholder {{" + name + "}} in template (known: " + known + ")");
    }
    const std::string& v = it->second;
    switch (escape) {
      case Escape::kNone:
        out += v;
        break;
      case Escape::kUrl:
        out += name == "iamBaseUrl" ? v : EscapeUrlComponent(v);
        break;
      case Escape::kJson:
        out += JsonInner(v);
        break;
      case Escape::kForm:
        out += EscapeUrlComponent(v);
        break;
    }
    pos = close + 2;
  }
}

Escape BodyEscapeFor(const std::string& content_type) {
  std::string ct = Lower(content_type);
  if (ct.find("json") != std::string::npos) return Escape::kJson;
  if (ct.find("x-www-form-urlencoded") != std::string::npos) return Escape::kForm;
  return Escape::kNone;
}

std::optional<std::string> StringAtPath(const json::value& doc, const std::string& path) {
  // A dot path is a JSON Pointer (RFC 6901) with '.' separators: escape '~' and '/' inside parts.
  std::string pointer;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    pointer += '/';
    for (char c : part) {
      if (c == '~') {
        pointer += "~0";
      } else if (c == '/') {
        pointer += "~1";
      } else {
        pointer += c;
      }
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  boost::system::error_code ec;
  const json::value* v = doc.find_pointer(pointer, ec);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

Result<std::string> Login(HttpClient& http, const LoginSettings& login, const TemplateValues& values,
                          int64_t timeout_ms) {
  auto url = RenderTemplate(login.url_template, values, Escape::kUrl);
  if (!url.ok()) return url.status();
  auto body = RenderTemplate(login.body_template, values, BodyEscapeFor(login.content_type));
  if (!body.ok()) return body.status();
  Status header_error;
  HttpRequest req;
  req.headers = Headers(login.headers, values, header_error);
  if (!header_error.ok()) return header_error;
  req.method = login.method.empty() ? "POST" : login.method;
  req.url = *url;
  req.body = *body;
  req.timeout_ms = timeout_ms;
  return Exchange(http, std::move(req), login.content_type, login.token_path.empty() ? "idToken" : login.token_path,
                  "login");
}

Result<std::string> ExchangeToken(HttpClient& http, const ExchangeSettings& exchange, const TemplateValues& values,
                                  int64_t timeout_ms) {
  auto url = RenderTemplate(exchange.url_template, values, Escape::kUrl);
  if (!url.ok()) return url.status();
  Status header_error;
  HttpRequest req;
  req.headers = Headers(exchange.headers, values, header_error);
  if (!header_error.ok()) return header_error;
  auto id_token = values.find("idToken");
  json::object body{{"idToken", id_token == values.end() ? "" : id_token->second},
                    {"audience", exchange.audience.empty() ? "codeq-producer" : exchange.audience}};
  if (!exchange.tenant_id.empty()) body["tenantId"] = exchange.tenant_id;
  if (!exchange.scopes.empty()) {
    json::array scopes;
    for (const auto& s : exchange.scopes) scopes.emplace_back(s);
    body["scopes"] = std::move(scopes);
  }
  req.method = exchange.method.empty() ? "POST" : exchange.method;
  req.url = *url;
  req.body = json::serialize(body);
  req.timeout_ms = timeout_ms;
  return Exchange(http, std::move(req), exchange.content_type.empty() ? "application/json" : exchange.content_type,
                  exchange.token_path.empty() ? "accessToken" : exchange.token_path, "token exchange");
}

std::string ProfileNameForEmail(const std::string& email) {
  std::string out = Lower(email);
  std::replace(out.begin(), out.end(), '@', '_');
  std::replace(out.begin(), out.end(), '.', '_');
  return out;
}

}  // namespace codeq::cli
