#include "store/embedded/disk_guard.h"

#include <sys/statvfs.h>

#include <limits>
#include <utility>

#include <spdlog/spdlog.h>

namespace codeq::embedded {

DiskGuard::DiskGuard(std::string dir, uint64_t reserve_bytes, std::function<uint64_t()> free_bytes,
                     std::chrono::milliseconds check_interval)
    : dir_(std::move(dir)),
      reserve_(reserve_bytes),
      free_bytes_(free_bytes ? std::move(free_bytes) : std::function<uint64_t()>([d = dir_] { return FreeBytes(d); })),
      interval_(check_interval) {}

uint64_t DiskGuard::FreeBytes(const std::string& dir) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

int DiskGuard::LevelFor(uint64_t free) const {
  if (free < reserve_ / 2) return 2;
  if (free < reserve_) return 1;
  return 0;
}

void DiskGuard::Refresh(std::chrono::steady_clock::time_point now) {
  const uint64_t free = free_bytes_();
  const int level = LevelFor(free);
  const int before = level_.exchange(level);
  if (level == before) return;
  std::lock_guard lock(log_mu_);
  constexpr uint64_t kMiB = 1 << 20;
  // A worse level is always logged; the same one again (free space going up and down around a
  // threshold) at most every 10 s.
  if (level > 0 && (level > warned_level_ || now - last_warning_ >= std::chrono::seconds(10))) {
    spdlog::warn("embedded store: {} MiB free on the filesystem of {} (minFreeDiskBytes {} MiB): refusing {} with 503 "
                 "until more is free",
                 free / kMiB, dir_, reserve_ / kMiB,
                 level == 1 ? "new tasks" : "every change but cleanup");
    last_warning_ = now;
    warned_level_ = level;
  } else if (level == 0 && warned_level_ > 0) {
    spdlog::info("embedded store: {} MiB free on the filesystem of {}: accepting writes again", free / kMiB, dir_);
    warned_level_ = 0;
  }
}

Status DiskGuard::Check(Need need) {
  if (reserve_ == 0) return Status::Ok();
  const auto now = std::chrono::steady_clock::now();
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  int64_t due = next_check_ns_.load(std::memory_order_relaxed);
  if (now_ns >= due &&
      next_check_ns_.compare_exchange_strong(due, now_ns + std::chrono::nanoseconds(interval_).count())) {
    Refresh(now);  // this caller took the reading; the others use the last one meanwhile
  }
  const int level = level_.load(std::memory_order_relaxed);
  const int refused_from = need == Need::kNewTasks ? 1 : 2;
  if (level >= refused_from) return Unavailable("store unavailable");
  return Status::Ok();
}

}  // namespace codeq::embedded
