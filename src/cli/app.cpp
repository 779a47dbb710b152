#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"

namespace codeq::cli {

int Main(int argc, char** argv) {
  CLI::App app{"codeQ: a durable task queue over HTTP"};
  app.set_version_flag("--version,-V", std::string("codeq ") + CODEQ_VERSION);
  app.require_subcommand(0, 1);
  // Usage errors read like every other error of the CLI (docs/cli.md): "[ERROR] …".
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("[ERROR] ") + e.what() + "\nRun with --help for more information.\n";
  });
  CommandRegistry registry;
  RegisterServeCommand(app, registry);
  RegisterClientCommands(app, registry);
  RegisterMigrateCommands(app, registry);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  // The deepest parsed subcommand with a runner wins (e.g. `codeq task create`).
  for (auto it = registry.runners.rbegin(); it != registry.runners.rend(); ++it) {
    if (it->first->parsed()) return it->second();
  }
  std::cout << app.help();
  return app.get_subcommands().empty() ? 0 : 2;
}

}  // namespace codeq::cli
