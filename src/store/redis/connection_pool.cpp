#include "store/redis/connection_pool.h"

#include <spdlog/spdlog.h>

namespace codeq::redis {

ConnectionPool::Handle ConnectionPool::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return Handle(this, std::move(c));
    }
  }
  return Handle(this, std::make_unique<Connection>(opts_));
}

void ConnectionPool::Release(std::unique_ptr<Connection> c, uint64_t failures_before) {
  constexpr auto kWarnEvery = std::chrono::seconds(10);
  std::lock_guard<std::mutex> lock(mu_);
  if (c->failure_count() > failures_before) {
    unreported_ += c->failure_count() - failures_before;
    const auto now = std::chrono::steady_clock::now();
    if (!last_warning_ || now - *last_warning_ >= kWarnEvery) {
      spdlog::warn("Redis at {}:{} unavailable: {} (requests answer 503 store unavailable; {} failed calls since the "
                   "last warning, at most one warning per 10 s)",
                   opts_.host, opts_.port, c->last_error(), unreported_);
      last_warning_ = now;
      unreported_ = 0;
    }
  }
  idle_.push_back(std::move(c));
}

}  // namespace codeq::redis
