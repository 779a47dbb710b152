#include "migrate/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace codeq::migrate {

Progress::Style Progress::AutoStyle(int fd) { return ::isatty(fd) == 1 ? Style::kBar : Style::kLines; }

void Progress::Begin(const std::string& step, int64_t total) {
  End();
  step_ = step;
  total_ = total;
  done_ = 0;
  active_ = true;
  started_ = std::chrono::steady_clock::now();
  last_draw_ = {};
  Draw(false);
}

void Progress::Advance(int64_t n) {
  if (!active_) return;
  done_ += n;
  Draw(false);
}

void Progress::End() {
  if (!active_) return;
  Draw(true);
  active_ = false;
}

void Progress::Note(const std::string& text) {
  if (style_ == Style::kNone) return;
  if (style_ == Style::kBar && active_) out_ << "\r\033[K";
  out_ << text << "\n";
  if (active_) {
    last_draw_ = {};
    Draw(false);
  }
  out_.flush();
}

void Progress::Draw(bool final) {
  if (style_ == Style::kNone) return;
  auto now = std::chrono::steady_clock::now();
  auto interval = style_ == Style::kBar ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000);
  if (!final && last_draw_ != std::chrono::steady_clock::time_point{} && now - last_draw_ < interval) return;
  if (!final && style_ == Style::kLines && last_draw_ == std::chrono::steady_clock::time_point{} && done_ == 0 &&
      total_ > 0) {
    last_draw_ = now;  // the first line of a step comes after a second of work (or at its end)
    return;
  }
  last_draw_ = now;
  double secs = std::chrono::duration<double>(now - started_).count();
  int pct = total_ > 0 ? static_cast<int>(std::min<int64_t>(100, done_ * 100 / std::max<int64_t>(total_, 1))) : 100;
  char buf[160];
  if (style_ == Style::kBar) {
    const int width = 30;
    int fill = total_ > 0 ? pct * width / 100 : (final ? width : 0);
    std::string bar(static_cast<size_t>(fill), '#');
    bar.append(static_cast<size_t>(width - fill), '.');
    std::snprintf(buf, sizeof buf, "\r\033[K%-22s [%s] %3d%% %lld/%lld %.1fs", step_.c_str(), bar.c_str(), pct,
                  static_cast<long long>(done_), static_cast<long long>(total_), secs);
    out_ << buf;
    if (final) out_ << "\n";
  } else if (final) {
    std::snprintf(buf, sizeof buf, "progress: %s done: %lld items in %.1fs", step_.c_str(),
                  static_cast<long long>(done_), secs);
    out_ << buf << "\n";
  } else {
    std::snprintf(buf, sizeof buf, "progress: %s %lld/%lld (%d%%)", step_.c_str(), static_cast<long long>(done_),
                  static_cast<long long>(total_), pct);
    out_ << buf << "\n";
  }
  out_.flush();
}

}  // namespace codeq::migrate
