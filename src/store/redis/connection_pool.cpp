#include "store/redis/connection_pool.h"

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

void ConnectionPool::Release(std::unique_ptr<Connection> c) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(c));
}

}  // namespace codeq::redis
