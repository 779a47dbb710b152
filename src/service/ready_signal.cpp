#include "service/ready_signal.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "domain/keys.h"

namespace codeq {
namespace asio = boost::asio;

namespace {
std::string SignalKey(const std::string& tenant, const std::string& command) {
  return tenant + '\x1f' + keys::LowerAscii(command);
}
}  // namespace

std::shared_ptr<ReadySignal::Waiter> ReadySignal::Register(asio::any_io_executor executor,
                                                           const std::string& tenant,
                                                           const std::vector<std::string>& commands) {
  std::vector<std::string> keys;
  for (const auto& c : commands) keys.push_back(SignalKey(tenant, c));
  auto w = std::make_shared<Waiter>(*this, executor, keys);
  std::lock_guard lock(mu_);
  for (const auto& k : keys) waiters_.emplace(k, w.get());
  return w;
}

void ReadySignal::Unregister(Waiter* w) {
  std::lock_guard lock(mu_);
  for (const auto& k : w->keys_) {
    auto [b, e] = waiters_.equal_range(k);
    for (auto it = b; it != e;) {
      it = it->second == w ? waiters_.erase(it) : std::next(it);
    }
    if (waiters_.count(k) == 0) last_poll_.erase(k);
  }
}

// Waiters are woken outside the registry lock: the reference taken here may turn out to be the
// last one (the claim finished meanwhile), and the Waiter destructor takes the lock to unregister.
// Dropping it while holding the lock deadlocked the server under load (found by codeq-bench).
// Waking every waiter of the key made each create cost one store round trip per waiting claim
// (10,000 idle claims: 20 creates took 30 s). A waiter with a wake-up pending is skipped, so
// successive notifications reach different waiters.
void ReadySignal::Notify(const std::string& tenant, const std::string& command, size_t max_waiters) {
  std::vector<std::shared_ptr<Waiter>> wake;
  {
    std::lock_guard lock(mu_);
    auto [b, e] = waiters_.equal_range(SignalKey(tenant, command));
    for (auto it = b; it != e && wake.size() < max_waiters; ++it) {
      if (it->second->notified_.load()) continue;
      // Null when the destructor already runs (and waits for the lock): nobody left to wake.
      if (auto w = it->second->weak_from_this().lock()) {
        w->notified_.store(true);  // claimed for this notification (Wake sets it again)
        wake.push_back(std::move(w));
      }
    }
  }
  for (auto& w : wake) w->Wake();
}

bool ReadySignal::TakePollTurn(const Waiter& w, std::chrono::milliseconds interval) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  bool due = false;
  for (const auto& k : w.keys_) {
    auto it = last_poll_.find(k);
    if (it == last_poll_.end() || now - it->second >= interval) due = true;
  }
  if (due) {
    for (const auto& k : w.keys_) last_poll_[k] = now;
  }
  return due;
}

void ReadySignal::NotifyAll() {
  std::vector<std::shared_ptr<Waiter>> wake;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, w] : waiters_) {
      if (auto s = w->weak_from_this().lock()) wake.push_back(std::move(s));
    }
  }
  for (auto& w : wake) w->Wake();
}

size_t ReadySignal::WaiterCount() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

ReadySignal::Waiter::Waiter(ReadySignal& owner, asio::any_io_executor ex, std::vector<std::string> keys)
    : owner_(owner), timer_(ex), keys_(std::move(keys)) {}

ReadySignal::Waiter::~Waiter() {
  if (!left_) owner_.Unregister(this);
}

bool ReadySignal::Waiter::Leave() {
  if (!left_) owner_.Unregister(this);
  left_ = true;
  return notified_.load();
}

// Called from any thread by someone holding a reference (not the registry lock): the flag is set
// first, then the cancel is posted to the waiter's own executor, so a wake-up is never lost
// between check and wait.
void ReadySignal::Waiter::Wake() {
  notified_.store(true);
  asio::post(timer_.get_executor(), [self = shared_from_this()] { self->timer_.cancel(); });
}

asio::awaitable<bool> ReadySignal::Waiter::Wait(std::chrono::milliseconds timeout) {
  if (notified_.exchange(false)) co_return true;
  timer_.expires_after(timeout);
  boost::system::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return notified_.exchange(false);
}

}  // namespace codeq
