#include "cli/prompt.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

namespace codeq::cli {

std::string Prompt(const std::string& question, const std::string& default_value, const std::string& shown_default) {
  const std::string& shown = shown_default.empty() ? default_value : shown_default;
  std::cerr << question << (shown.empty() ? "" : " [" + shown + "]") << ": " << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) {
    std::cerr << std::endl;
    return default_value;
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line.empty() ? default_value : line;
}

std::string PromptSecret(const std::string& question) {
  std::cerr << question << ": " << std::flush;
  termios old{};
  bool tty = ::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << std::endl;
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace codeq::cli
