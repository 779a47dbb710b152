// Client commands (task, worker, queue, admin, init, auth, token): not built yet.
#include "cli/commands.h"

namespace codeq::cli {

void RegisterClientCommands(CLI::App& app, CommandRegistry& registry) {}

}  // namespace codeq::cli
