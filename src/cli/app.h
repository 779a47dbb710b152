// The `codeq` command line (ARCHITECTURE.md, cli/).
#pragma once

namespace codeq::cli {

/// Parses argv, runs the chosen subcommand and returns the process exit code
/// (0 success, 1 error, 2 configuration or usage error).
int Main(int argc, char** argv);

}  // namespace codeq::cli
