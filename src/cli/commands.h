// Registration of the `codeq` subcommands. Each command family lives in its own file and adds its
// subcommands plus a runner; app.cpp runs the runner of the subcommand that was parsed.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <utility>
#include <vector>

namespace codeq::cli {

/// Subcommands with the function that runs each (returns the exit code: 0 success, 1 error,
/// 2 configuration or usage error). A runner is chosen when its CLI::App was parsed.
struct CommandRegistry {
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  void Add(CLI::App* cmd, std::function<int()> run) { runners.emplace_back(cmd, std::move(run)); }
};

/// `codeq serve` (serve.cpp).
void RegisterServeCommand(CLI::App& app, CommandRegistry& registry);
/// Client commands: task, worker, queue, admin, init, auth, token (client_commands.cpp).
void RegisterClientCommands(CLI::App& app, CommandRegistry& registry);
/// `codeq migrate ...` (migrate_command.cpp).
void RegisterMigrateCommands(CLI::App& app, CommandRegistry& registry);

}  // namespace codeq::cli
