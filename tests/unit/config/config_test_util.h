// Helpers shared by the config unit tests: an injected environment and temporary YAML files.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <unistd.h>

#include "config/config.h"

namespace codeq::testing {

/// An EnvLookup over a fixed map.
inline EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

/// The variables that satisfy the non-dev validation of SPEC §8.3.
inline std::map<std::string, std::string> ProductionEnv() {
  return {{"WORKER_JWKS_URL", "https://id.example.com/worker/jwks.json"},
          {"WORKER_ISSUER", "https://id.example.com"},
          {"IDENTITY_SERVICE_URL", "https://id.example.com"},
          {"WEBHOOK_HMAC_SECRET", "hmac-secret"}};
}

/// A file with the given content, removed when it goes out of scope.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("codeq-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".yaml");
    std::ofstream(path_) << content;
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

/// Flags with only --config set.
inline ConfigFlags WithConfig(const std::string& path) {
  ConfigFlags f;
  f.config_path = path;
  return f;
}

}  // namespace codeq::testing
