// Progress reporting of long migration steps: a redrawn bar on a terminal, plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace codeq::migrate {

class Progress {
 public:
  enum class Style { kNone, kBar, kLines };
  /// kBar when `fd` is a terminal, kLines otherwise.
  static Style AutoStyle(int fd);

  Progress(Style style, std::ostream& out) : style_(style), out_(out) {}
  ~Progress() { End(); }

  /// Starts a step of `total` units (0 = unknown).
  void Begin(const std::string& step, int64_t total);
  void Advance(int64_t n);
  /// Ends the current step (prints its final line). Idempotent.
  void End();
  /// A free-form note on its own line (clears the bar first).
  void Note(const std::string& text);

 private:
  void Draw(bool final);

  Style style_;
  std::ostream& out_;
  std::string step_;
  int64_t total_ = 0;
  int64_t done_ = 0;
  bool active_ = false;
  std::chrono::steady_clock::time_point started_{}, last_draw_{};
};

}  // namespace codeq::migrate
