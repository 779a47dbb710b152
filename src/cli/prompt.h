// Interactive questions for `codeq init` and `codeq auth login` (questions on stderr, answers from stdin).
#pragma once

#include <string>

namespace codeq::cli {

/// Prints "<question> [<shown default>]: " on stderr and reads one line from stdin. An empty answer
/// or end of input returns `default_value`. `shown_default` replaces the default in the question
/// (e.g. a masked token); empty = `default_value`.
std::string Prompt(const std::string& question, const std::string& default_value,
                   const std::string& shown_default = "");

/// Like Prompt without a default, with echo turned off when stdin is a terminal (passwords).
std::string PromptSecret(const std::string& question);

}  // namespace codeq::cli
