// `codeq serve`: runs the HTTP server (SPEC §8.4).
#pragma once

#include <CLI/CLI.hpp>

#include "config/config.h"

namespace codeq::cli {

/// Runs the server until SIGINT/SIGTERM. Returns the exit code: 0 after a clean shutdown, 1 when
/// the store, keys or listener cannot be set up, 2 for configuration errors.
int RunServe(const ConfigFlags& flags);

}  // namespace codeq::cli
