// Small helpers shared by the handler files of api/.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "http/server.h"

namespace codeq::api {

/// A header's value, or "" when absent.
inline std::string_view Header(const http::Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

/// 204 with no body.
inline http::Response NoContent() {
  http::Response r;
  r.status = 204;
  return r;
}

/// A response with `body` serialised as JSON.
inline http::Response JsonResponse(int status, const boost::json::value& body) {
  http::Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  return r;
}

/// A response whose body is JSON text already, e.g. TaskToJsonText's (the same bytes as
/// JsonResponse of TaskToJson, without building and freeing a json::object on every answer).
inline http::Response JsonTextResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

/// The value of `name` in a query string ("a=1&b=2"), percent-decoded; "" when absent.
std::string QueryParam(std::string_view query, std::string_view name);

}  // namespace codeq::api
