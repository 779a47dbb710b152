// The configuration flags of `codeq serve` (CLI11). Defaults shown in the help come from Config's
// initialisers, so they cannot drift from the real ones.
#include <CLI/CLI.hpp>

#include "config/config.h"

namespace codeq {

void RegisterServeFlags(CLI::App& serve, ConfigFlags& flags) {
  static const Config kDefaults;
  auto text = [](const std::string& what, const char* env, const std::string& def) {
    return what + " (env " + env + "; default " + def + ")";
  };

  serve.add_option_function<std::string>(
          "--config", [&flags](const std::string& v) { flags.config_path = v; },
          "YAML configuration file (env CODEQ_CONFIG_PATH; default: none). A given file that is "
          "missing or invalid is an error")
      ->type_name("PATH");
  serve.add_option_function<int>(
          "--port", [&flags](const int& v) { flags.port = v; },
          text("HTTP port, 1..65535", "PORT", std::to_string(kDefaults.port)))
      ->type_name("PORT");
  serve.add_option_function<std::string>(
          "--store", [&flags](const std::string& v) { flags.store = v; },
          text("storage backend: embedded, redis (uses REDIS_ADDR/REDIS_PASSWORD) or "
               "redis://[:password@]host:port[/db]",
               "STORE", kDefaults.store))
      ->type_name("STORE");
  serve.add_option_function<std::string>(
          "--data-dir", [&flags](const std::string& v) { flags.data_dir = v; },
          text("data directory of the embedded store", "DATA_DIR", kDefaults.data_dir))
      ->type_name("DIR");
  serve.add_option_function<std::string>(
          "--env", [&flags](const std::string& v) { flags.env = v; },
          text("environment name; \"dev\" enables dev mode", "ENV", kDefaults.env))
      ->type_name("NAME");
  serve.add_option_function<std::string>(
          "--log-level", [&flags](const std::string& v) { flags.log_level = v; },
          text("log level: debug, info, warn or error", "LOG_LEVEL", kDefaults.log_level))
      ->type_name("LEVEL");
  serve.add_option_function<std::string>(
          "--log-format", [&flags](const std::string& v) { flags.log_format = v; },
          text("log format: json or text", "LOG_FORMAT", kDefaults.log_format))
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"json", "text"}, CLI::ignore_case));
  serve.add_option_function<std::string>(
          "--durability", [&flags](const std::string& v) { flags.durability = v; },
          text("embedded store commit mode: sync (fsync before answering) or async", "DURABILITY",
               kDefaults.durability))
      ->type_name("MODE")
      ->check(CLI::IsMember({"sync", "async"}, CLI::ignore_case));
  serve.add_option_function<std::string>(
          "--listen", [&flags](const std::string& v) { flags.listen_address = v; },
          text("address to listen on", "LISTEN_ADDRESS", kDefaults.listen_address))
      ->type_name("ADDR");
  serve.add_option_function<int64_t>(
          "--max-body-bytes", [&flags](const int64_t& v) { flags.max_body_bytes = v; },
          text("largest accepted request body in bytes; larger → 413", "MAX_BODY_BYTES",
               std::to_string(kDefaults.max_body_bytes)))
      ->type_name("BYTES");
  serve.add_flag("--dev", flags.dev,
                 "development mode: sets env=dev, skips the non-dev validation, mints local keys "
                 "and tokens (default off)");
  serve.add_flag("--print-config", flags.print_config,
                 "print the effective configuration as YAML (secrets masked) and exit");
}

}  // namespace codeq
