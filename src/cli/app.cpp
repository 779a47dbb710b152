#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace codeq::cli {

int Main(int argc, char** argv) {
  CLI::App app{"codeQ: a durable task queue over HTTP"};
  app.set_version_flag("--version,-V", std::string("codeq ") + CODEQ_VERSION);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (app.get_subcommands().empty()) {
    std::cout << app.help();
  }
  return 0;
}

}  // namespace codeq::cli
