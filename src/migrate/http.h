// A minimal blocking HTTP/1.1 client (plain http) for `codeq migrate verify`'s API checks.
#pragma once

#include <string>

namespace codeq::migrate {

struct HttpResult {
  int status = 0;     // 0 = no response (see error)
  std::string body;
  std::string error;  // transport error
};

/// Sends `method base_url+path` with `Authorization: Bearer <token>` (when non-empty) and a JSON
/// body (when non-empty). `base_url` is http://host[:port][/prefix]; https is not supported.
/// Bounded by `timeout_ms` as a whole.
HttpResult HttpCall(const std::string& base_url, const std::string& method, const std::string& path,
                    const std::string& token, const std::string& body, int timeout_ms);

}  // namespace codeq::migrate
