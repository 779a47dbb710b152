// The real `codeq serve --dev` binary as a child process, for HTTP integration tests.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.h"
#include "support/http_client.h"

#ifndef CODEQ_BINARY
#define CODEQ_BINARY "codeq"
#endif

namespace codeq::test {

/// The binary to run: $CODEQ_IT_BINARY when set (to test another build), else CODEQ_BINARY.
std::string DefaultCodeqBinary();

struct CodeqServerOptions {
  std::string binary = DefaultCodeqBinary();
  std::string store_url;  // redis://127.0.0.1:<port> (required)
  /// Extra environment (added after the defaults below, so it overrides them). Defaults:
  /// LOCAL_ARTIFACTS_DIR=<temp>/artifacts, BACKOFF_POLICY=fixed, BACKOFF_BASE_SECONDS=1,
  /// LOG_FORMAT=text, LOG_LEVEL=info.
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> extra_args;  // appended to `serve --dev ...`
  /// `--dev` (local keys and tokens). Without it the environment must configure auth (a
  /// production config: JWKS URLs, issuers, audiences, webhookHmacSecret) and the token accessors
  /// below return "".
  bool dev = true;
  int start_timeout_ms = 30000;         // how long Start() waits for GET /healthz = 200
};

/// Runs `codeq serve [--dev] --store <url> --port <free> --data-dir <temp>` with its output captured
/// to `<temp>/codeq.log`, waits for /healthz, reads the dev tokens. Stops the process (SIGTERM, then
/// SIGKILL) and removes the temp dir when destroyed. Not thread-safe (requests through Client() or
/// fresh HttpClients are; each thread should use its own HttpClient).
class CodeqServer {
 public:
  explicit CodeqServer(CodeqServerOptions options);
  ~CodeqServer();
  CodeqServer(const CodeqServer&) = delete;
  CodeqServer& operator=(const CodeqServer&) = delete;

  /// Starts the server (a restart after Stop() or a crash keeps the data dir and signing key, so
  /// tokens minted earlier stay valid; the port may change). Retries with another port if the chosen one was taken) and waits until
  /// /healthz answers 200 and the three token files exist. False on failure; `error` says why
  /// (the log is appended).
  bool Start(std::string* error = nullptr);
  /// SIGTERM (SIGKILL after `grace`) and wait. Exit status, nullopt if it was not running.
  std::optional<int> Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  /// Waits up to `timeout` for the server to exit by itself (after a SIGTERM the test sent),
  /// sending nothing: a second SIGTERM while it shuts down may end it with the default action.
  /// Exit status as Stop, nullopt when it is still running (or was not).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  bool Running();
  /// The server's process id; 0 before the first Start().
  pid_t pid() const;
  /// Sends `sig` (e.g. SIGTERM, SIGSTOP) to the server. False when it is not running.
  bool Signal(int sig);

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }            // temp root
  std::string data_dir() const { return dir_ + "/data"; }
  std::string artifacts_dir() const { return dir_ + "/artifacts"; }
  std::string signing_key_path() const { return data_dir() + "/dev/signing-key.pem"; }
  const std::string& producer_token() const { return producer_token_; }
  const std::string& worker_token() const { return worker_token_; }
  const std::string& admin_token() const { return admin_token_; }

  /// The captured stdout/stderr so far.
  std::string Log() const;
  /// The last `max_bytes` of the log (for failure messages).
  std::string LogTail(size_t max_bytes = 8000) const;

  /// A new client for this server (keep-alive off by default).
  std::unique_ptr<HttpClient> NewClient(bool keep_alive = false) const;

 private:
  bool StartOnce(std::string* error);

  CodeqServerOptions options_;
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> child_;
  std::string producer_token_, worker_token_, admin_token_;
};

}  // namespace codeq::test
