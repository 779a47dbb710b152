#include "cli/serve.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include "api/access_log.h"
#include "api/api.h"
#include "auth/authenticator.h"
#include "auth/jwt_validator.h"
#include "auth/validator_factory.h"
#include "cli/commands.h"
#include "cli/dev_mode.h"
#include "domain/time_format.h"
#include "http/server.h"
#include "metrics/metrics.h"
#include "service/scheduler.h"
#include "store/embedded/embedded_store.h"
#include "store/redis/redis_store.h"
#include "webhooks/notifier.h"
#include "webhooks/result_callbacks.h"
#include "webhooks/sender.h"

namespace codeq::cli {
namespace asio = boost::asio;

void RegisterServeCommand(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<ConfigFlags>();
  CLI::App* serve = app.add_subcommand("serve", "Run the codeQ HTTP server");
  serve->footer(
      "Examples:\n"
      "  codeq serve --dev --store redis://127.0.0.1:6379   # local development, prints tokens\n"
      "  CODEQ_CONFIG_PATH=/etc/codeq.yaml codeq serve       # production, config from YAML + env\n"
      "  codeq serve --print-config                          # show the effective config");
  RegisterServeFlags(*serve, *flags);
  registry.Add(serve, [flags] {
    try {
      return RunServe(*flags);
    } catch (const std::exception& e) {  // e.g. no descriptor left for the signal pipe at start-up
      std::cerr << "[ERROR] codeq serve: " << e.what() << "\n";
      return 1;
    }
  });
}

namespace {

/// JSON lines: {"time","level","service","env","msg"} with the message escaped; access lines
/// (logger api::kAccessLoggerName) carry their own members (method, route, status, duration_ms,
/// request_id), spliced in as they are.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  explicit JsonLogFormatter(std::string env) : env_(std::move(env)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    auto since = msg.time.time_since_epoch();
    auto secs = duration_cast<seconds>(since);
    int ms = static_cast<int>(duration_cast<milliseconds>(since - secs).count());
    std::time_t t = secs.count();
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[40];
    size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", ms);

    std::string line;
    line.reserve(msg.payload.size() + 128);
    line += "{\"time\":\"";
    line += stamp;
    line += "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"service\":\"codeq\",\"env\":\"";
    api::AppendJsonEscaped(line, env_);
    line += "\",";
    std::string_view payload(msg.payload.data(), msg.payload.size());
    if (msg.logger_name == api::kAccessLoggerName) {
      line += payload;
    } else {
      line += "\"msg\":\"";
      api::AppendJsonEscaped(line, payload);
      line += '"';
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>(env_);
  }

 private:
  std::string env_;
};

void SetUpLogging(const Config& config) {
  auto level = spdlog::level::from_str(config.log_level);
  spdlog::set_level(level == spdlog::level::off && config.log_level != "off" ? spdlog::level::info : level);
  // Access lines share the default logger's sinks under their own name, so the JSON formatter can
  // tell them apart.
  if (!spdlog::get(api::kAccessLoggerName)) {
    auto def = spdlog::default_logger();
    auto access = std::make_shared<spdlog::logger>(api::kAccessLoggerName, def->sinks().begin(),
                                                   def->sinks().end());
    access->set_level(def->level());
    spdlog::register_logger(access);
  }
  const bool json = config.log_format != "text";
  api::SetAccessLogJson(json);
  if (!json) {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  } else {
    spdlog::set_formatter(std::make_unique<JsonLogFormatter>(config.env));
  }
}

/// The I/O threads `codeq serve` runs: ioThreads, or 0 (the default) = one per CPU, at least 2.
unsigned IoThreadCount(const Config& config) {
  return config.io_threads > 0 ? static_cast<unsigned>(config.io_threads)
                               : std::max(2u, std::thread::hardware_concurrency());
}

// Opens the configured store. `max_open_files`: EmbeddedOptions::max_open_files (StoreFileBudget).
Result<std::shared_ptr<Store>> OpenStore(const Config& config, const Clock& clock, int max_open_files) {
  if (config.store == "embedded") {
    EmbeddedOptions o;
    o.data_dir = config.data_dir;
    o.sync = config.durability != "async";
    o.clock = &clock;
    // Inline calls pay off only when the I/O threads keep every CPU busy by themselves.
    const unsigned threads = IoThreadCount(config);
    o.inline_calls = threads >= 2 && threads >= std::thread::hardware_concurrency();
    o.max_open_files = max_open_files;
    o.min_free_disk_bytes = static_cast<uint64_t>(config.min_free_disk_bytes);
    auto store = EmbeddedStore::Open(o);
    if (!store.ok()) return store.status();
    std::shared_ptr<Store> s = *store;
    return s;
  }
  auto target = RedisTarget(config);
  if (!target.ok()) return target.status();
  RedisOptions o;
  o.host = target->host;
  o.port = target->port;
  o.db = target->db;
  o.password = target->password;
  o.username = target->username;  // ACL user of redis://user:password@host
  std::shared_ptr<Store> store = RedisStore::Create(o);
  return store;
}

// The embedded store repairs expired leases on a timer too (issue 3): give it the backoff policy
// and let its repairs feed the same metrics as claim-time repair. A no-op on Redis.
void EnableBackgroundRepair(Store& store, const Config& config, Metrics& metrics) {
  BackoffPolicy policy{config.backoff_policy, config.backoff_base_seconds, config.backoff_max_seconds};
  auto random = DefaultRandom();
  store.SetBackgroundRepair(
      [policy, random](int attempts) { return ComputeBackoffSeconds(policy, attempts, random); },
      config.max_attempts_default, [&metrics](const RepairOutcome& out) {
        for (const auto& cmd : out.expired_commands) metrics.LeaseExpired(cmd);
        int64_t now_ms = SystemClock().NowMs();
        for (const auto& t : out.dead_lettered) {
          auto created = ParseRfc3339Ms(t.created_at);
          double seconds = created ? std::max<int64_t>(0, now_ms - *created) / 1000.0 : 0;
          metrics.TaskCompleted(t.command, kFailed, seconds);
        }
      });
}

// Result callbacks and worker-availability notifications (SPEC §6, issue 5): one Sender shared by
// both, started on the server's io_context once it exists.
struct Webhooks {
  webhooks::Sender sender;
  webhooks::ResultCallbacks callbacks;
  webhooks::Notifier notifier;

  Webhooks(webhooks::UrlPolicy policy, const Config& c, std::shared_ptr<Store> store, Metrics& metrics,
           const Clock& clock)
      : sender(std::move(policy), SenderOptionsOf(c), clock),
        callbacks(store, sender, metrics, clock, CallbackOptionsOf(c)),
        notifier(store, sender, metrics, clock, NotifierOptionsOf(c)) {}

  static webhooks::SenderOptions SenderOptionsOf(const Config& c) {
    webhooks::SenderOptions o;
    o.hmac_secret = c.webhook_hmac_secret;
    o.concurrency = c.webhook_concurrency;
    o.timeout_ms = int64_t{c.webhook_timeout_seconds} * 1000;
    return o;
  }
  static webhooks::CallbackOptions CallbackOptionsOf(const Config& c) {
    webhooks::CallbackOptions o;
    o.max_attempts = c.result_webhook_max_attempts;
    o.base_backoff_seconds = c.result_webhook_base_backoff_seconds;
    o.max_backoff_seconds = c.result_webhook_max_backoff_seconds;
    return o;
  }
  static webhooks::NotifierOptions NotifierOptionsOf(const Config& c) {
    webhooks::NotifierOptions o;
    o.cleanup_interval_seconds = c.subscription_cleanup_interval_seconds;
    o.promote_limit = c.requeue_inspect_limit;
    return o;
  }

  /// Connects the scheduler's events to the loops. Before serving.
  void Attach(Scheduler& scheduler) {
    SchedulerHooks hooks;
    hooks.on_ready = [this](const std::string& tenant, const std::string& command, int64_t added,
                            int64_t depth) { notifier.OnReady(tenant, command, added, depth); };
    hooks.on_callback_enqueued = [this] { callbacks.Wake(); };
    hooks.on_subscriptions_changed = [this] { notifier.Refresh(); };
    scheduler.SetHooks(std::move(hooks));
    notifier.SetPromotedListener([&scheduler](const std::string& tenant, const std::string& command) {
      scheduler.ready_signal().Notify(tenant, command);
    });
  }
  void Start(asio::any_io_executor executor) {
    callbacks.Start(executor);
    notifier.Start(executor);
  }
  /// Graceful shutdown, step 1: no new deliveries; POSTs in flight are aborted and their
  /// callbacks stay in the outbox (redelivered after the lease, i.e. after a restart).
  void BeginStop() {
    callbacks.Stop();
    notifier.Stop();
    sender.BeginStop();
  }
  /// True once no delivery still has to record its outcome in the store.
  bool Idle() const { return callbacks.in_flight() == 0; }
  /// Step 2, after the io_context stopped: joins the sender's threads.
  void Stop() {
    BeginStop();
    sender.Stop();
  }
};

// Link-local networks (cloud metadata endpoints live there) and "this host": always denied unless
// webhookDeniedHosts contains the word "none".
constexpr std::string_view kBuiltInDeniedHosts = "169.254.0.0/16 fe80::/10 0.0.0.0/8 ::/128";

// webhookAllowedHosts / webhookDeniedHosts (added to the built-in list above).
Result<webhooks::UrlPolicy> WebhookPolicy(const Config& c) {
  std::string denied = c.webhook_denied_hosts;
  if (auto pos = denied.find("none"); pos != std::string::npos) {
    denied.erase(pos, 4);
  } else {
    denied = std::string(kBuiltInDeniedHosts) + " " + denied;
  }
  auto policy = webhooks::UrlPolicy::Make(c.webhook_allowed_hosts, denied);
  if (!policy.ok()) return InvalidArgument("config validation failed: " + policy.status().message());
  return policy;
}

// SPEC §3.1 auto-configuration: a side without an explicit provider becomes `jwks` when its JWKS URL
// is set (producer: identityJwksUrl/identityIssuer/identityAudience; worker: workerJwksUrl/...).
void ResolveAuthProviders(Config& c) {
  auto resolve = [&](std::string& provider, boost::json::value& cfg, const std::string& url,
                     const std::string& issuer, const std::string& audience) {
    if (!provider.empty() || url.empty()) return;
    provider = "jwks";
    if (!cfg.is_null()) return;
    cfg = boost::json::object{{"jwksUrl", url},
                              {"issuer", issuer},
                              {"audience", audience},
                              {"clockSkew", std::to_string(c.allowed_clock_skew_seconds) + "s"},
                              {"httpTimeout", "5s"}};
  };
  resolve(c.producer_auth_provider, c.producer_auth_config, c.identity_jwks_url, c.identity_issuer,
          c.identity_audience);
  resolve(c.worker_auth_provider, c.worker_auth_config, c.worker_jwks_url, c.worker_issuer,
          c.worker_audience);
}

// Raises the soft RLIMIT_NOFILE to the hard limit, as Go and nginx do: every connection is a file
// descriptor. Returns the soft limit then in force; 0 when there is none (RLIM_INFINITY) or it
// cannot be read.
size_t RaiseFileLimit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return lim.rlim_cur == RLIM_INFINITY ? 0 : static_cast<size_t>(lim.rlim_cur);
}

// The SST files the embedded store may keep open (EmbeddedOptions::max_open_files) under an
// open-file limit of `limit` descriptors (0 = none): -1, every file (RocksDB's fastest reads),
// when the limit is 0 or at least 65 536; otherwise a quarter of it, at least 20 (RocksDB's
// minimum). With every file open, a database that keeps growing would take descriptors until
// none is left for its next WAL file, which stops the server.
int StoreFileBudget(size_t limit) {
  constexpr size_t kUnbounded = 65536;
  if (limit == 0 || limit >= kUnbounded) return -1;
  return static_cast<int>(std::max<size_t>(20, limit / 4));
}

// Fits the server's connection cap and refusals under way into the open-file limit `limit`
// (RaiseFileLimit; 0 = none). Called once the process holds its standing descriptors (the
// store's files, the listener, the signal pipe, every I/O context's reactor: PrepareContexts),
// which are counted. Descriptors the connections may not take are kept for the rest: the
// store's SST files up to `store_files` (StoreFileBudget; -1 = none reserved), its new WAL files
// (without one the embedded store stops the server), Redis and webhook connections, JWKS fetches.
// That reserve is `store_files` plus 256, or plus half of what is free when fewer than 512 are;
// refusals may use a quarter of the 256. Warns when the cap has to be lowered. Unavailable when
// fewer than kMinFreeDescriptors are free: the store alone may need that many new files at once.
constexpr size_t kMinFreeDescriptors = 64;
Status FitConnectionsToFileLimit(http::HttpServer& server, size_t limit, int store_files) {
  size_t max_connections = server.options().max_connections;
  size_t max_refusing = server.options().max_refusing;
  if (limit == 0) return Status::Ok();
  std::error_code ec;
  size_t in_use = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++in_use;
  }
  if (in_use > 0) --in_use;  // the listing's own descriptor
  const size_t free_now = limit > in_use ? limit - in_use : 0;
  if (free_now < kMinFreeDescriptors) {
    return Unavailable("open-file limit " + std::to_string(limit) + " leaves " + std::to_string(free_now) +
                       " descriptors free after start-up; codeq serve needs at least " +
                       std::to_string(kMinFreeDescriptors) + " (raise it with ulimit -n)");
  }
  const size_t spare = std::min<size_t>(256, free_now / 2);
  max_refusing = std::min(max_refusing, std::max<size_t>(1, spare / 4));
  // The SST files already open were counted in use too: reserving the whole budget again keeps
  // the cap on the safe side.
  const size_t reserve = spare + static_cast<size_t>(std::max(0, store_files));
  const size_t room = free_now > reserve ? free_now - reserve : 1;
  if (room < max_connections) {
    spdlog::warn("open-file limit {} with {} descriptors in use leaves room for {} connections (maxConnections {}, {} "
                 "descriptors kept for the store and outgoing connections): more get 503 too many connections",
                 limit, in_use, room, max_connections, reserve);
    max_connections = room;
  }
  server.SetConnectionLimits(max_connections, max_refusing);
  return Status::Ok();
}

// Creates each I/O context's reactor (its epoll, eventfd and timerfd descriptors) now, which asio
// otherwise does at the context's first connection: counted by FitConnectionsToFileLimit, and
// never an EMFILE to handle in the accept loop later.
void PrepareContexts(const std::vector<asio::io_context*>& contexts) {
  for (asio::io_context* c : contexts) {
    asio::ip::tcp::socket touch(*c);
    asio::steady_timer timer(*c);
  }
}

SchedulerOptions ToSchedulerOptions(const Config& c) {
  SchedulerOptions o;
  o.default_lease_seconds = c.default_lease_seconds;
  o.max_lease_seconds = c.max_lease_seconds;
  o.inspect_limit = c.requeue_inspect_limit;
  o.max_attempts_default = c.max_attempts_default;
  o.backoff = BackoffPolicy{c.backoff_policy, c.backoff_base_seconds, c.backoff_max_seconds};
  o.artifacts_dir = c.local_artifacts_dir;
  o.subscription_min_interval_seconds = c.subscription_min_interval_seconds;
  return o;
}

}  // namespace

int RunServe(const ConfigFlags& flags) {
  auto loaded = LoadConfig(flags, ProcessEnv());
  if (!loaded.ok()) {
    std::string m = loaded.status().message();
    // SPEC §8.1 wording: "[ERROR] load config: ..." / "[ERROR] invalid config: config validation failed: ..."
    std::cerr << "[ERROR] " << (m.rfind("config validation failed", 0) == 0 ? "invalid config: " : "") << m << "\n";
    return 2;
  }
  Config config = std::move(*loaded);
  // Checked before --print-config too: an invalid configuration never prints (configuration.md).
  auto policy = WebhookPolicy(config);
  if (!policy.ok()) {
    std::cerr << "[ERROR] invalid config: " << policy.status().message() << "\n";  // exit 2 as §8.1
    return 2;
  }
  if (flags.print_config) {
    std::cout << PrintConfig(config);
    return 0;
  }
  SetUpLogging(config);
  if (!SetDisplayTimeZone(config.timezone)) {
    spdlog::warn("unknown timezone {}; using UTC", config.timezone);
  }

  SystemClock clock;
  std::shared_ptr<TokenValidator> producer, worker;
  std::optional<DevSetup> dev;
  if (config.IsDevMode() && flags.dev) {
    auto setup = SetUpDevMode(config, clock);
    if (!setup.ok()) {
      std::cerr << "[ERROR] dev mode: " << setup.status().message() << "\n";
      return 1;
    }
    dev = std::move(*setup);
    producer = dev->producer;
    worker = dev->worker;
  } else {
    ResolveAuthProviders(config);
    auto p = MakeTokenValidator(config.producer_auth_provider, config.producer_auth_config, clock);
    auto w = MakeTokenValidator(config.worker_auth_provider, config.worker_auth_config, clock);
    if (!p.ok() || !w.ok()) {
      std::cerr << "[ERROR] " << (!p.ok() ? p.status() : w.status()).message() << "\n";
      return 2;
    }
    producer = *p;
    worker = *w;
    for (auto* v : {producer.get(), worker.get()}) {
      if (auto* jwt = dynamic_cast<JwtValidator*>(v)) {
        if (auto s = jwt->Prefetch(); !s.ok()) spdlog::warn("JWKS not loaded at start-up: {}", s.message());
      }
    }
  }
  if (config.IsDevMode()) {
    spdlog::warn("env=dev: development mode, X-Role: ADMIN is honoured; never use this in production");
  }

  // One io_context per I/O thread (concurrency hint 1: one thread runs each; other threads may
  // still post to it). The first is run by this thread and also holds the acceptor, signals,
  // webhooks and background loops; connections are spread over all of them (HttpServer).
  // Before the store, so they are destroyed after it: a store closing at exit still hands its
  // last completions to these (stopped) io_contexts, which then drop them.
  const unsigned threads = IoThreadCount(config);
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::io_context*> session_contexts;
  for (unsigned i = 0; i < threads; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    session_contexts.push_back(contexts.back().get());
  }
  asio::io_context& ioc = *contexts.front();
  const size_t file_limit = RaiseFileLimit();
  const int store_files = config.store == "embedded" ? StoreFileBudget(file_limit) : -1;
  auto store = OpenStore(config, clock, store_files);
  if (!store.ok()) {
    std::cerr << "[ERROR] " << store.status().message() << "\n";
    return store.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  Metrics metrics;
  // Declared before the scheduler so that it outlives it (the scheduler's store listener calls it).
  Webhooks hooks(*policy, config, *store, metrics, clock);
  Scheduler scheduler(*store, clock, metrics, ToSchedulerOptions(config));
  EnableBackgroundRepair(**store, config, metrics);
  hooks.Attach(scheduler);
  AuthOptions auth_options;
  auth_options.dev_mode = config.IsDevMode();
  auth_options.allow_producer_as_worker = config.allow_producer_as_worker;
  auth_options.tenant_fallback_to_subject = config.tenant_fallback_to_subject;
  auth_options.worker_audience = config.worker_audience;
  Authenticator auth(auth_options, producer, worker);
  api::Api api(scheduler, auth, metrics, &hooks.sender.policy());

  http::ServerOptions so;
  so.address = config.listen_address;
  so.port = static_cast<uint16_t>(config.port);
  so.max_body_bytes = static_cast<uint64_t>(config.max_body_bytes);
  so.max_connections = static_cast<size_t>(config.max_connections);
  so.header_timeout = std::chrono::seconds(config.request_header_timeout_seconds);
  so.body_timeout = std::chrono::seconds(config.request_body_timeout_seconds);
  http::HttpServer server(ioc, session_contexts, so,
                          [&api](const http::Request& r, http::RequestContext& ctx) { return api.Handle(r, ctx); });
  if (auto s = server.Start(); !s.ok()) {
    std::cerr << "[ERROR] " << s.message() << "\n";
    return 1;
  }
  // Graceful shutdown (SPEC §8.4; the handler is set below). Created before the descriptors are
  // counted: its signal pipe is one of them.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  PrepareContexts(session_contexts);
  if (auto s = FitConnectionsToFileLimit(server, file_limit, store_files); !s.ok()) {
    std::cerr << "[ERROR] " << s.message() << "\n";
    return 1;
  }
  hooks.Start(ioc.get_executor());
  spdlog::info("codeq {} listening on {}:{} store={} timezone={} defaultLeaseSeconds={} requeueInspectLimit={}",
               CODEQ_VERSION, config.listen_address, server.port(),
               config.store.rfind("redis://", 0) == 0 ? "redis" : config.store + " (" + config.durability + ")", config.timezone,
               config.default_lease_seconds, config.requeue_inspect_limit);
  if (dev) {
    std::cout << "\n=== codeQ DEVELOPMENT MODE: local keys, NOT FOR PRODUCTION ===\n"
              << "JWKS:           " << dev->jwks_path << "\n"
              << "Tokens (also in " << dev->tokens_dir << "/{producer,worker,admin}.token, valid 30 days):\n"
              << "PRODUCER_TOKEN=" << dev->producer_token << "\n"
              << "WORKER_TOKEN=" << dev->worker_token << "\n"
              << "ADMIN_TOKEN=" << dev->admin_token << "\n"
              << "=================================================================\n"
              << std::endl;
  }

  // Graceful shutdown (SPEC §8.4): stop accepting, let requests in flight finish, 10 s budget.
  asio::steady_timer drain(ioc);
  auto deadline = std::chrono::steady_clock::now();
  std::function<void()> poll = [&] {
    bool idle = server.active_requests() == 0 && hooks.Idle();
    if (idle || std::chrono::steady_clock::now() >= deadline) {
      ioc.stop();
      return;
    }
    drain.expires_after(std::chrono::milliseconds(50));
    drain.async_wait([&](auto) { poll(); });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {} received: shutting down", sig);
    server.StopAccepting();
    scheduler.BeginShutdown();  // waiting long-poll claims answer 204 now
    hooks.BeginStop();
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    poll();
  });

  // The other contexts run until the first one stops (they may have no connection meanwhile).
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) {
    keep_running.push_back(asio::make_work_guard(*contexts[i]));
    pool.emplace_back([&context = *contexts[i]] { context.run(); });
  }
  ioc.run();
  for (unsigned i = 1; i < threads; ++i) contexts[i]->stop();
  for (auto& t : pool) t.join();
  hooks.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace codeq::cli
