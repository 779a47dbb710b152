#include "store/embedded/group_commit.h"

#include <rocksdb/db.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>

namespace codeq::embedded {

GroupCommit::GroupCommit(rocksdb::DB* db) : db_(db) {
  synced_ = db_->GetLatestSequenceNumber();  // what recovery read back is on disk already
  thread_ = std::thread([this] { Run(); });
}

GroupCommit::~GroupCommit() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

uint64_t GroupCommit::sync_count() const {
  std::lock_guard lock(mu_);
  return sync_count_;
}

void GroupCommit::WhenDurable(uint64_t seq, Completion done) {
  {
    std::lock_guard lock(mu_);
    if (synced_ < seq) {
      waiters_.push_back({seq, std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done();
}

boost::asio::awaitable<void> GroupCommit::WaitDurable(uint64_t seq) {
  {
    std::lock_guard lock(mu_);
    if (synced_ >= seq) co_return;
  }
  auto initiation = [this, seq](auto handler) {
    // Keep the caller's executor busy while waiting (an io_context must not run out of work),
    // and resume the coroutine there, never on the syncer thread.
    auto ex = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                  boost::asio::execution::outstanding_work.tracked);
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    WhenDurable(seq, [h, ex]() { boost::asio::post(ex, [h]() { std::move(*h)(); }); });
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void()>(
      initiation, boost::asio::use_awaitable);
}

void GroupCommit::WaitDurableBlocking(uint64_t seq) {
  auto done = std::make_shared<std::promise<void>>();
  auto fut = done->get_future();
  WhenDurable(seq, [done]() { done->set_value(); });
  fut.wait();
}

void GroupCommit::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !waiters_.empty(); });
    if (waiters_.empty()) break;  // stopping, nothing left to make durable
    // Every write with a sequence number <= target has been appended to the WAL (writes happen
    // before their sequence number is published), so one SyncWAL covers all of them.
    const uint64_t target = db_->GetLatestSequenceNumber();
    lock.unlock();
    rocksdb::Status s = db_->SyncWAL();
    if (!s.ok()) {
      std::fprintf(stderr, "codeq embedded store: fatal: WAL fsync failed: %s\n", s.ToString().c_str());
      std::abort();
    }
    lock.lock();
    if (target > synced_) synced_ = target;
    ++sync_count_;
    std::vector<Completion> ready;
    std::vector<Waiter> later;
    for (auto& w : waiters_) {
      if (w.seq <= synced_) {
        ready.push_back(std::move(w.done));
      } else {
        later.push_back(std::move(w));
      }
    }
    waiters_.swap(later);
    lock.unlock();
    for (auto& done : ready) done();
    lock.lock();
  }
}

}  // namespace codeq::embedded
