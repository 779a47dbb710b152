// Client commands (SPEC §9, issue 6): task, worker, queue, admin, init, auth, token.
#include "cli/client_commands.h"

#include "config/config.h"

namespace codeq::cli {

Result<ClientSettings> ClientContext::Settings(bool allow_missing_profile) const {
  return ResolveSettings(flags, ProcessEnv(), allow_missing_profile);
}

CLI::App* AddClientCommand(CLI::App& parent, const std::string& name, const std::string& description,
                           const std::string& examples) {
  CLI::App* cmd = parent.add_subcommand(name, description);
  cmd->fallthrough();
  cmd->footer(HelpFooter(examples));
  return cmd;
}

void RegisterClientCommands(CLI::App& app, CommandRegistry& registry) {
  auto ctx = std::make_shared<ClientContext>();
  AddGlobalFlags(app, ctx->flags);
  RegisterTaskCommands(app, registry, ctx);
  RegisterWorkerCommands(app, registry, ctx);
  RegisterQueueCommands(app, registry, ctx);
  RegisterAuthCommands(app, registry, ctx);
  RegisterTokenCommands(app, registry, ctx);
}

}  // namespace codeq::cli
