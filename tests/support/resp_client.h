// A minimal blocking Redis-protocol client for test setup and inspection (no hiredis needed).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace codeq::test {

/// One RESP2 reply. `type` is the RESP type byte: '+' status, '-' error, ':' integer,
/// '$' bulk string (nil when `nil`), '*' array (nil when `nil`).
struct RespValue {
  char type = '$';
  bool nil = false;
  std::string str;  // status, error and bulk text
  long long integer = 0;
  std::vector<RespValue> elements;

  bool is_error() const { return type == '-'; }
};

/// A connection to one server. Every call has a timeout; after any failure the client is closed
/// and Call() returns nullopt until Connect() is called again. Not thread-safe.
class RespClient {
 public:
  RespClient() = default;
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  /// Connects to host:port (IPv4 literal) and sends AUTH when a password is given. One connect
  /// plus at most one round trip, each bounded by timeout_ms.
  bool Connect(const std::string& host, int port, const std::string& password = "",
               int timeout_ms = 2000);
  /// Sends one command and reads its reply; nullopt on I/O failure or timeout. O(reply size).
  std::optional<RespValue> Call(const std::vector<std::string>& args);
  void Close();
  bool connected() const { return fd_ >= 0; }

 private:
  bool ReadLine(std::string& line);
  bool ReadBytes(size_t n, std::string& out);
  bool ReadValue(RespValue& v, int depth);

  int fd_ = -1;
  std::string buf_;
};

/// Opens a connection, runs one command, closes. nullopt when the server does not answer.
std::optional<RespValue> RespCall(const std::string& host, int port,
                                  const std::vector<std::string>& args,
                                  const std::string& password = "", int timeout_ms = 2000);

}  // namespace codeq::test
