#include "support/codeq_server.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/free_port.h"

namespace codeq::test {
namespace fs = std::filesystem;

namespace {

// Every configuration variable the server reads (SPEC §8.2, D20): removed from the inherited
// environment so a developer's shell cannot change what the tests start.
const char* const kServerEnvVars[] = {
    "ALLOWED_CLOCK_SKEW_SECONDS", "ALLOW_PRODUCER_AS_WORKER", "BACKOFF_BASE_SECONDS", "BACKOFF_MAX_SECONDS",
    "BACKOFF_POLICY", "CODEQ_CONFIG_PATH", "DATA_DIR", "DEFAULT_LEASE_SECONDS", "DURABILITY", "ENV",
    "IDENTITY_AUDIENCE", "IDENTITY_ISSUER", "IDENTITY_JWKS_URL", "IDENTITY_SERVICE_API_KEY",
    "IDENTITY_SERVICE_URL", "KVROCKS_PASSWORD", "LISTEN_ADDRESS", "LOCAL_ARTIFACTS_DIR", "LOG_FORMAT",
    "LOG_LEVEL", "MAX_ATTEMPTS_DEFAULT", "MAX_BODY_BYTES", "MAX_CONNECTIONS", "MAX_LEASE_SECONDS", "PORT",
    "PRODUCER_AUTH_CONFIG", "PRODUCER_AUTH_PROVIDER", "REDIS_ADDR", "REDIS_PASSWORD", "REQUEST_BODY_TIMEOUT_SECONDS",
    "REQUEST_HEADER_TIMEOUT_SECONDS", "REQUEUE_INSPECT_LIMIT",
    "RESULT_WEBHOOK_BASE_BACKOFF_SECONDS", "RESULT_WEBHOOK_MAX_ATTEMPTS", "RESULT_WEBHOOK_MAX_BACKOFF_SECONDS",
    "STORE", "SUBSCRIPTION_CLEANUP_INTERVAL_SECONDS", "SUBSCRIPTION_MIN_INTERVAL_SECONDS",
    "TENANT_FALLBACK_TO_SUBJECT", "TIMEZONE", "WEBHOOK_HMAC_SECRET", "WORKER_AUDIENCE", "WORKER_AUTH_CONFIG",
    "WORKER_AUTH_PROVIDER", "WORKER_ISSUER", "WORKER_JWKS_URL"};

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string DefaultCodeqBinary() {
  const char* env = ::getenv("CODEQ_IT_BINARY");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(CODEQ_BINARY);
}

CodeqServer::CodeqServer(CodeqServerOptions options) : options_(std::move(options)) {
  std::string tmpl = (fs::temp_directory_path() / "codeq-it-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) != nullptr) dir_ = tmpl;
}

CodeqServer::~CodeqServer() {
  Stop(std::chrono::seconds(5));
  if (!dir_.empty() && ::getenv("CODEQ_IT_KEEP_TEMP") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

bool CodeqServer::Running() { return child_ && child_->Running(); }

pid_t CodeqServer::pid() const { return child_ ? child_->pid() : 0; }

bool CodeqServer::Signal(int sig) { return child_ && child_->Signal(sig); }

std::optional<int> CodeqServer::Stop(std::chrono::milliseconds grace) {
  if (!child_ || !child_->Running()) return std::nullopt;
  return child_->Kill(grace);
}

std::optional<int> CodeqServer::WaitExit(std::chrono::milliseconds timeout) {
  if (!child_) return std::nullopt;
  return child_->Wait(timeout);
}

std::string CodeqServer::Log() const {
  std::ifstream in(dir_ + "/codeq.log", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string CodeqServer::LogTail(size_t max_bytes) const {
  std::string log = Log();
  if (log.size() <= max_bytes) return log;
  return "..." + log.substr(log.size() - max_bytes);
}

std::unique_ptr<HttpClient> CodeqServer::NewClient(bool keep_alive) const {
  return std::make_unique<HttpClient>("127.0.0.1", port_, keep_alive);
}

bool CodeqServer::Start(std::string* error) {
  if (dir_.empty()) {
    if (error) *error = "cannot create a temp dir";
    return false;
  }
  if (Running()) return true;
  std::string last;
  for (int attempt = 0; attempt < 4; ++attempt) {
    port_ = FreePort();
    if (port_ == 0) continue;
    if (StartOnce(&last)) return true;
  }
  if (error) *error = last + "\n--- codeq log ---\n" + LogTail();
  return false;
}

bool CodeqServer::StartOnce(std::string* error) {
  std::error_code ec;
  fs::create_directories(data_dir(), ec);
  fs::create_directories(artifacts_dir(), ec);

  ChildOptions o;
  o.program = options_.binary;
  o.args = {"serve", "--store", options_.store_url, "--port", std::to_string(port_),
            "--data-dir", data_dir(), "--listen", "127.0.0.1"};
  if (options_.dev) o.args.insert(o.args.begin() + 1, "--dev");
  o.args.insert(o.args.end(), options_.extra_args.begin(), options_.extra_args.end());
  for (const char* name : kServerEnvVars) o.unset_env.emplace_back(name);
  o.env = {{"LOCAL_ARTIFACTS_DIR", artifacts_dir()},
           {"BACKOFF_POLICY", "fixed"},
           {"BACKOFF_BASE_SECONDS", "1"},
           {"LOG_FORMAT", "text"},
           {"LOG_LEVEL", "info"}};
  o.env.insert(o.env.end(), options_.env.begin(), options_.env.end());
  o.output_path = dir_ + "/codeq.log";
  o.working_dir = dir_;

  std::string spawn_error;
  child_ = ChildProcess::Spawn(o, &spawn_error);
  if (!child_) {
    if (error) *error = "spawn failed: " + spawn_error;
    return false;
  }

  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.start_timeout_ms);
  HttpClient client("127.0.0.1", port_, false, std::chrono::milliseconds(1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (!child_->Running()) {
      if (error) *error = "codeq exited during start-up";
      return false;
    }
    auto r = client.Request("GET", "/healthz");
    if (r.status == 200 && !options_.dev) return true;
    if (r.status == 200) {
      std::string dev = data_dir() + "/dev/";
      producer_token_ = ReadTrimmed(dev + "producer.token");
      worker_token_ = ReadTrimmed(dev + "worker.token");
      admin_token_ = ReadTrimmed(dev + "admin.token");
      if (!producer_token_.empty() && !worker_token_.empty() && !admin_token_.empty()) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (error) *error = "codeq did not become healthy within " + std::to_string(options_.start_timeout_ms) + " ms";
  child_->Kill(std::chrono::seconds(2));
  return false;
}

}  // namespace codeq::test
