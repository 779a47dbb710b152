// Reading a whole file as text, with every failure as a Status (never an exception).
#pragma once

#include <string>

#include "domain/status.h"

namespace codeq {

/// The bytes of the file at `path`. Errors: NotFound("<path>: file not found"),
/// InvalidArgument("<path>: is a directory"), Unavailable("<path>: cannot read file: <why>")
/// for anything else (permissions, I/O errors). Reading a directory through a stream throws in
/// libstdc++; this never does. O(file size).
Result<std::string> ReadFileText(const std::string& path);

}  // namespace codeq
