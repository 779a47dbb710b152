// Entry point of the `codeq` binary: dispatches to the subcommands of cli/.
#include "cli/app.h"

int main(int argc, char** argv) { return codeq::cli::Main(argc, argv); }
