#include "webhooks/notifier.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "domain/ids.h"
#include "domain/keys.h"
#include "domain/time_format.h"

namespace codeq::webhooks {
namespace asio = boost::asio;

namespace {
constexpr std::string_view kKind = "queue_ready";
constexpr int kMaxSubscriptions = 1000;  // SPEC §6.2 step 1 LIMIT
constexpr auto kTick = std::chrono::milliseconds(25);

}  // namespace

std::vector<Subscription> SelectRecipients(const std::vector<Subscription>& active, int64_t unix_seconds,
                                           const std::function<int64_t(const std::string&)>& rr) {
  std::vector<Subscription> out;
  std::map<std::string, std::vector<const Subscription*>> groups;
  std::vector<std::string> group_order;
  std::vector<const Subscription*> hashed;
  for (const auto& s : active) {
    if (s.delivery_mode == kDeliveryGroup) {
      auto& members = groups[s.group_id];
      if (members.empty()) group_order.push_back(s.group_id);
      members.push_back(&s);
    } else if (s.delivery_mode == kDeliveryHash) {
      hashed.push_back(&s);
    } else {
      out.push_back(s);  // fanout and any unknown mode
    }
  }
  for (const auto& g : group_order) {
    const auto& members = groups[g];
    int64_t i = rr(g);
    auto n = static_cast<int64_t>(members.size());
    out.push_back(*members[static_cast<size_t>(((i % n) + n) % n)]);
  }
  if (!hashed.empty()) {
    auto n = static_cast<int64_t>(hashed.size());
    out.push_back(*hashed[static_cast<size_t>((unix_seconds / 60) % n)]);
  }
  return out;
}

std::string NotificationBody(const std::string& command, int64_t depth, int64_t unix_seconds) {
  boost::json::object o;
  o["eventType"] = command;
  o["available"] = true;
  o["queueDepth"] = depth;
  o["claimUrl"] = "/v1/codeq/tasks/claim";
  o["sentAt"] = FormatUtcSeconds(unix_seconds);
  o["notificationId"] = "ntf-" + NewUuidV4();
  return boost::json::serialize(o);
}

Notifier::Notifier(std::shared_ptr<Store> store, Sender& sender, Metrics& metrics, const Clock& clock,
                   NotifierOptions options)
    : store_(std::move(store)), sender_(sender), metrics_(metrics), clock_(clock), options_(options) {}

void Notifier::Start(asio::any_io_executor executor) { asio::co_spawn(executor, Loop(), asio::detached); }

void Notifier::Stop() { stopped_.store(true); }

void Notifier::OnReady(const std::string& tenant, const std::string& command, int64_t added, int64_t depth) {
  Key key(tenant, keys::LowerAscii(command));
  std::lock_guard lock(mu_);
  // While a refresh is pending (a subscription was just made) the list may be stale: keep the event;
  // Handle() asks the store anyway.
  bool stale = refresh_requested_.load() != refresh_done_.load();
  if (!stale && watched_.find(key) == watched_.end()) return;
  auto& ev = pending_[key];
  // Coalesce: a later event of the same queue replaces an earlier one, but a known 0→n transition
  // is kept (it is the one that must notify).
  bool keep_old = ev.added > 0 && ev.depth == ev.added;
  if (!keep_old || ev.command.empty()) {
    ev.added = added;
    ev.depth = depth;
  }
  ev.command = command;
}

asio::awaitable<void> Notifier::Loop() {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  auto last_sweep = std::chrono::steady_clock::now();
  auto last_cleanup = last_sweep;
  while (!stopped_.load()) {
    auto now = std::chrono::steady_clock::now();
    if (refresh_requested_.load() != refresh_done_.load() || now - last_sweep >= options_.sweep_interval) {
      co_await RefreshWatched();
      if (now - last_sweep >= options_.sweep_interval) {
        last_sweep = now;
        co_await Sweep();
      }
    }
    if (now - last_cleanup >= std::chrono::seconds(std::max(1, options_.cleanup_interval_seconds))) {
      last_cleanup = now;
      auto removed = co_await store_->CleanupSubscriptions(clock_.NowSeconds(), kMaxSubscriptions);
      if (!removed.ok()) {
        spdlog::warn("subscription cleanup failed: {}", removed.status().message());
      } else if (*removed > 0) {
        spdlog::info("subscription cleanup removed {} expired subscriptions", *removed);
        Refresh();
      }
    }
    std::map<Key, Event> events;
    {
      std::lock_guard lock(mu_);
      events.swap(pending_);
    }
    for (auto& [key, ev] : events) co_await Handle(key.first, std::move(ev));
    timer.expires_after(kTick);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> Notifier::RefreshWatched() {
  uint64_t generation = refresh_requested_.load();
  auto subs = co_await store_->ListSubscriptions(clock_.NowSeconds(), 100000);
  if (!subs.ok()) co_return;  // keep the last list; the store may be down for a moment
  std::map<Key, std::string> watched;
  for (const auto& s : *subs) {
    for (const auto& c : s.event_types) watched.emplace(Key(s.tenant_id, keys::LowerAscii(c)), c);
  }
  std::lock_guard lock(mu_);
  watched_.swap(watched);
  refresh_done_.store(generation);
}

asio::awaitable<void> Notifier::Sweep() {
  std::map<Key, std::string> watched;
  {
    std::lock_guard lock(mu_);
    watched = watched_;
  }
  for (const auto& [key, command] : watched) {
    auto promoted = co_await store_->PromoteDue(key.first, command, clock_.NowSeconds(), options_.promote_limit);
    if (!promoted.ok() || promoted->moved == 0) continue;
    if (on_promoted_) on_promoted_(key.first, command);
    Event ev;
    ev.added = promoted->moved;
    ev.depth = promoted->ready_depth;
    ev.command = command;
    co_await Handle(key.first, std::move(ev));
  }
}

asio::awaitable<void> Notifier::Handle(std::string tenant, Event ev) {
  int64_t depth = ev.depth;
  if (depth < 0) {
    auto stats = co_await store_->Stats(tenant, ev.command);
    if (!stats.ok()) co_return;
    depth = stats->ready;
  }
  bool became_ready = ev.added > 0 ? depth == ev.added : depth > 0;
  if (!became_ready) co_return;
  int64_t now_sec = clock_.NowSeconds();
  auto subs = co_await store_->ActiveSubscriptions(ev.command, now_sec, kMaxSubscriptions);
  if (!subs.ok()) {
    spdlog::warn("notifications for {}: subscriptions unavailable: {}", ev.command, subs.status().message());
    co_return;
  }
  std::vector<Subscription> mine;
  for (auto& s : *subs) {
    if (s.tenant_id == tenant) mine.push_back(std::move(s));
  }
  // Round-robin counters are store round trips: fetch them before selecting.
  std::map<std::string, int64_t> counters;
  for (const auto& s : mine) {
    if (s.delivery_mode != kDeliveryGroup || counters.count(s.group_id) != 0) continue;
    auto next = co_await store_->NextRoundRobin(ev.command, s.group_id);
    counters[s.group_id] = next.ok() ? *next : 0;
  }
  auto executor = co_await asio::this_coro::executor;
  auto recipients = SelectRecipients(mine, now_sec, [&](const std::string& g) { return counters[g]; });
  for (auto& sub : recipients) {
    auto allowed = co_await store_->TryThrottle(sub.id, std::max(1, sub.min_interval_seconds), clock_.NowMs());
    if (!allowed.ok() || !*allowed) continue;
    if (sender_.pending() >= sender_.concurrency() * options_.max_queued_posts_per_slot) {
      metrics_.WebhookDelivery(kKind, ev.command, "failure");
      spdlog::warn("notification to subscription {} dropped: {} webhook POSTs already queued", sub.id,
                   sender_.pending());
      continue;
    }
    asio::co_spawn(executor, Send(std::move(sub), ev.command, depth), asio::detached);
  }
}

asio::awaitable<void> Notifier::Send(Subscription sub, std::string command, int64_t depth) {
  std::string body = NotificationBody(command, depth, clock_.NowSeconds());
  PostOutcome out = co_await sender_.Post(sub.callback_url, std::move(body));
  if (out.aborted) co_return;
  metrics_.WebhookDelivery(kKind, command, out.delivered ? "success" : "failure");
  if (!out.delivered) {
    spdlog::info("notification to subscription {} failed: {}", sub.id, out.error);
  }
}

}  // namespace codeq::webhooks
