#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/serve.h"

namespace codeq::cli {

int Main(int argc, char** argv) {
  CLI::App app{"codeQ: a durable task queue over HTTP"};
  app.set_version_flag("--version,-V", std::string("codeq ") + CODEQ_VERSION);
  app.require_subcommand(0, 1);
  ConfigFlags serve_flags;
  CLI::App* serve = AddServeCommand(app, serve_flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (serve->parsed()) return RunServe(serve_flags);
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
  }
  return 0;
}

}  // namespace codeq::cli
