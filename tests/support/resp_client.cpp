#include "support/resp_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace codeq::test {

RespClient::~RespClient() { Close(); }

void RespClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buf_.clear();
}

bool RespClient::Connect(const std::string& host, int port, const std::string& password,
                         int timeout_ms) {
  Close();
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  timeval tv{};
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    Close();
    return false;
  }
  if (!password.empty()) {
    auto r = Call({"AUTH", password});
    if (!r || r->is_error()) {
      Close();
      return false;
    }
  }
  return true;
}

std::optional<RespValue> RespClient::Call(const std::vector<std::string>& args) {
  if (fd_ < 0) return std::nullopt;
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      Close();
      return std::nullopt;
    }
    sent += static_cast<size_t>(n);
  }
  RespValue v;
  if (!ReadValue(v, 0)) {
    Close();
    return std::nullopt;
  }
  return v;
}

bool RespClient::ReadBytes(size_t n, std::string& out) {
  while (buf_.size() < n) {
    char tmp[16384];
    ssize_t r = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (r <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(r));
  }
  out = buf_.substr(0, n);
  buf_.erase(0, n);
  return true;
}

bool RespClient::ReadLine(std::string& line) {
  for (;;) {
    auto pos = buf_.find("\r\n");
    if (pos != std::string::npos) {
      line = buf_.substr(0, pos);
      buf_.erase(0, pos + 2);
      return true;
    }
    char tmp[16384];
    ssize_t r = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (r <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(r));
  }
}

bool RespClient::ReadValue(RespValue& v, int depth) {
  if (depth > 32) return false;
  std::string line;
  if (!ReadLine(line) || line.empty()) return false;
  v.type = line[0];
  std::string rest = line.substr(1);
  switch (v.type) {
    case '+':
    case '-':
      v.str = rest;
      return true;
    case ':':
      v.integer = std::strtoll(rest.c_str(), nullptr, 10);
      return true;
    case '$': {
      long long len = std::strtoll(rest.c_str(), nullptr, 10);
      if (len < 0) {
        v.nil = true;
        return true;
      }
      std::string data;
      if (!ReadBytes(static_cast<size_t>(len) + 2, data)) return false;
      v.str = data.substr(0, static_cast<size_t>(len));
      return true;
    }
    case '*': {
      long long n = std::strtoll(rest.c_str(), nullptr, 10);
      if (n < 0) {
        v.nil = true;
        return true;
      }
      v.elements.resize(static_cast<size_t>(n));
      for (auto& e : v.elements) {
        if (!ReadValue(e, depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

std::optional<RespValue> RespCall(const std::string& host, int port,
                                  const std::vector<std::string>& args, const std::string& password,
                                  int timeout_ms) {
  RespClient c;
  if (!c.Connect(host, port, password, timeout_ms)) return std::nullopt;
  return c.Call(args);
}

}  // namespace codeq::test
