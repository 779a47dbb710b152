// Shared plumbing of the client command families (task, worker, queue/admin, init/auth, token):
// the global flags and how each family registers its subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/settings.h"

namespace codeq::cli {

/// State shared by every client command of one run: the global flags CLI11 fills.
struct ClientContext {
  GlobalFlags flags;
  /// ResolveSettings with the process environment.
  Result<ClientSettings> Settings(bool allow_missing_profile = false) const;
};
using ContextPtr = std::shared_ptr<ClientContext>;

/// Adds a client subcommand: description, help footer with `examples`, global flags accepted after it.
CLI::App* AddClientCommand(CLI::App& parent, const std::string& name, const std::string& description,
                           const std::string& examples);

/// `codeq task create|get|result` (task_commands.cpp).
void RegisterTaskCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx);
/// `codeq worker start` (worker_command.cpp).
void RegisterWorkerCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx);
/// `codeq queue list|inspect`, `codeq admin cleanup` (queue_commands.cpp).
void RegisterQueueCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx);
/// `codeq init`, `codeq auth set|show|clear` (auth_commands.cpp) and `codeq auth login` (auth_login.cpp).
void RegisterAuthCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx);
void RegisterAuthLoginCommand(CLI::App& auth, CommandRegistry& registry, const ContextPtr& ctx);
/// `codeq token keygen|mint` (token_commands.cpp).
void RegisterTokenCommands(CLI::App& app, CommandRegistry& registry, const ContextPtr& ctx);

}  // namespace codeq::cli
