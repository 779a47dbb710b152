// Fuzz target: the configuration loader (src/config): YAML file text → Config, including the
// YAML → JSON conversion of the auth configs, normalisation, derivation and validation; then the
// documented round trip: PrintConfig's text loads back to a config that prints the same.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.h"
#include "fuzz_check.h"

namespace {

/// A per-process scratch file for the YAML text (LoadConfig reads a path).
const std::string& ScratchPath() {
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("codeq-fuzz-config-" + std::to_string(::getpid()) + ".yaml"))
                                      .string();
  return path;
}

codeq::Result<codeq::Config> LoadText(const std::string& text) {
  {
    std::ofstream out(ScratchPath(), std::ios::binary | std::ios::trunc);
    out << text;
  }
  codeq::ConfigFlags flags;
  flags.config_path = ScratchPath();
  auto no_env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  return codeq::LoadConfig(flags, no_env);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto cfg = LoadText(std::string(reinterpret_cast<const char*>(data), size));
  if (cfg.ok()) {
    std::string printed = codeq::PrintConfig(*cfg);
    auto again = LoadText(printed);
    if (!again.ok()) std::fprintf(stderr, "reload failed: %s\n", again.status().message().c_str());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(codeq::PrintConfig(*again) == printed);
  }
  std::error_code ec;
  std::filesystem::remove(ScratchPath(), ec);
  return 0;
}
