// `codeq migrate`: not built yet.
#include "cli/commands.h"

namespace codeq::cli {

void RegisterMigrateCommands(CLI::App& app, CommandRegistry& registry) {}

}  // namespace codeq::cli
