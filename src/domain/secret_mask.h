// The text that stands for a secret wherever codeQ prints configuration (`codeq serve
// --print-config`): passwords, tokens, API keys. Shared by the printer (config/) and by the
// checks that refuse the mask itself as a secret when a printed config is loaded back (auth/).
#pragma once

#include <string_view>

namespace codeq {

/// What a non-empty secret is printed as.
inline constexpr std::string_view kSecretMask = "****";

}  // namespace codeq
