// Result artifacts stored on the local file system (SPEC §2.8 step 5, D15).
#pragma once

#include <string>
#include <string_view>

#include "domain/status.h"

namespace codeq {

/// Whether an artifact name is acceptable: non-empty, no '/', '\\' or "..", no NUL (D15).
bool IsValidArtifactName(std::string_view name);

/// Decodes standard base64 (missing '=' padding is added first). InvalidArgument with a short
/// detail ("illegal base64 data") on bad input.
Result<std::string> DecodeBase64(std::string_view text);

/// Writes `bytes` to `<dir>/results/<task_id>/<name>` atomically (temporary file + rename,
/// parents created, existing file replaced) and returns the absolute path written.
/// Errors: Internal with the OS error text.
Result<std::string> WriteArtifactFile(const std::string& dir, const std::string& task_id,
                                      const std::string& name, const std::string& bytes);

}  // namespace codeq
