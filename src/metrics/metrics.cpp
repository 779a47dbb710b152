// Metrics registry and Prometheus text exposition 0.0.4 (SPEC §7).
#include "metrics/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <mutex>
#include <span>

namespace codeq {
namespace {

// §7: codeq_task_processing_latency_seconds buckets.
constexpr std::array<double, 14> kLatencyBuckets = {0.1, 0.25, 0.5, 1,   2.5, 5,    10,
                                                    30,  60,   120, 300, 600, 1800, 3600};
// HTTP durations: Prometheus' customary defaults plus 30 s, the longest long-poll claim (D15).
constexpr std::array<double, 12> kHttpBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                 0.5,   1,    2.5,   5,    10,  30};

// Store calls: from an in-memory index hit (~100 µs with the HTTP hop excluded) to an fsync or a
// slow Redis round trip.
constexpr std::array<double, 14> kStoreBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                  0.025,  0.05,    0.1,    0.25,  0.5,   1,    5};

using Labels = std::vector<std::string>;

// Orders stored label tuples and lookup keys (arrays of string_view) alike, so a lookup of an
// existing series allocates nothing.
struct LabelsLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

void AppendEscaped(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// `{a="x",b="y"[,le="…"]}`; nothing when there are no labels.
void AppendLabels(std::string& out, std::span<const std::string_view> names, const Labels& values,
                  std::string_view le = {}) {
  if (names.empty() && le.empty()) return;
  out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    AppendEscaped(out, values[i]);
    out += '"';
  }
  if (!le.empty()) {
    if (!names.empty()) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void AppendHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

template <size_t N>
class CounterFamily {
 public:
  CounterFamily(std::string_view name, std::string_view help, std::array<std::string_view, N> labels)
      : name_(name), help_(help), labels_(labels) {}

  void Inc(const std::array<std::string_view, N>& values) {
    std::lock_guard lock(mu_);
    auto it = series_.find(values);
    if (it == series_.end()) it = series_.emplace(Labels(values.begin(), values.end()), 0).first;
    ++it->second;
  }

  void Render(std::string& out) const {
    std::lock_guard lock(mu_);
    if (series_.empty()) return;
    AppendHeader(out, name_, "counter", help_);
    for (const auto& [labels, value] : series_) {
      out += name_;
      AppendLabels(out, labels_, labels);
      out += ' ';
      out += std::to_string(value);
      out += '\n';
    }
  }

 private:
  std::string_view name_, help_;
  std::array<std::string_view, N> labels_;
  mutable std::mutex mu_;
  std::map<Labels, uint64_t, LabelsLess> series_;
};

template <size_t N>
class HistogramFamily {
 public:
  HistogramFamily(std::string_view name, std::string_view help, std::array<std::string_view, N> labels,
                  std::span<const double> bounds)
      : name_(name), help_(help), labels_(labels), bounds_(bounds) {}

  void Observe(const std::array<std::string_view, N>& values, double v) {
    if (!(v >= 0)) v = 0;  // negative (clock skew) or NaN
    // First bucket whose upper bound is >= v (Prometheus `le` semantics); == size → only +Inf.
    size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
    std::lock_guard lock(mu_);
    auto it = series_.find(values);
    if (it == series_.end()) {
      it = series_.emplace(Labels(values.begin(), values.end()), Data{}).first;
      it->second.counts.assign(bounds_.size(), 0);
    }
    Data& d = it->second;
    if (bucket < bounds_.size()) ++d.counts[bucket];
    ++d.count;
    d.sum += v;
  }

  void Render(std::string& out) const {
    std::lock_guard lock(mu_);
    if (series_.empty()) return;
    AppendHeader(out, name_, "histogram", help_);
    for (const auto& [labels, d] : series_) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= bounds_.size(); ++i) {
        cumulative = i < bounds_.size() ? cumulative + d.counts[i] : d.count;
        out += name_;
        out += "_bucket";
        AppendLabels(out, labels_, labels, i < bounds_.size() ? FormatDouble(bounds_[i]) : "+Inf");
        out += ' ';
        out += std::to_string(cumulative);
        out += '\n';
      }
      out += name_;
      out += "_sum";
      AppendLabels(out, labels_, labels);
      out += ' ';
      out += FormatDouble(d.sum);
      out += '\n';
      out += name_;
      out += "_count";
      AppendLabels(out, labels_, labels);
      out += ' ';
      out += std::to_string(d.count);
      out += '\n';
    }
  }

 private:
  struct Data {
    std::vector<uint64_t> counts;  // per bucket, not cumulative; +Inf-only values are in `count`
    double sum = 0;
    uint64_t count = 0;
  };
  std::string_view name_, help_;
  std::array<std::string_view, N> labels_;
  std::span<const double> bounds_;
  mutable std::mutex mu_;
  std::map<Labels, Data, LabelsLess> series_;
};

void AppendGaugeSample(std::string& out, std::string_view name,
                       std::span<const std::string_view> names, const Labels& values, int64_t v) {
  out += name;
  AppendLabels(out, names, values);
  out += ' ';
  out += std::to_string(v);
  out += '\n';
}

void RenderGauges(std::string& out, const std::vector<Metrics::QueueGauge>& gauges) {
  if (gauges.empty()) return;
  constexpr std::array<std::string_view, 2> kDepthLabels = {"command", "queue"};
  constexpr std::array<std::string_view, 1> kCommandLabel = {"command"};

  AppendHeader(out, "codeq_queue_depth", "gauge", "Tasks per queue of a command, read at scrape time.");
  for (const auto& g : gauges) {
    AppendGaugeSample(out, "codeq_queue_depth", kDepthLabels, {g.command, "ready"}, g.ready);
    AppendGaugeSample(out, "codeq_queue_depth", kDepthLabels, {g.command, "delayed"}, g.delayed);
    AppendGaugeSample(out, "codeq_queue_depth", kDepthLabels, {g.command, "in_progress"}, g.in_progress);
    AppendGaugeSample(out, "codeq_queue_depth", kDepthLabels, {g.command, "dlq"}, g.dlq);
  }
  AppendHeader(out, "codeq_dlq_depth", "gauge", "Dead-lettered tasks of a command.");
  for (const auto& g : gauges) {
    AppendGaugeSample(out, "codeq_dlq_depth", kCommandLabel, {g.command}, g.dlq);
  }
  bool any_subs = std::any_of(gauges.begin(), gauges.end(),
                              [](const auto& g) { return g.subscriptions_active.has_value(); });
  if (!any_subs) return;
  AppendHeader(out, "codeq_subscriptions_active", "gauge",
               "Worker subscriptions of a command that have not expired.");
  for (const auto& g : gauges) {
    if (!g.subscriptions_active) continue;
    AppendGaugeSample(out, "codeq_subscriptions_active", kCommandLabel, {g.command},
                      *g.subscriptions_active);
  }
}

}  // namespace

struct Metrics::Impl {
  CounterFamily<1> created{"codeq_task_created_total", "Tasks created (idempotent replays excluded).",
                           {"command"}};
  CounterFamily<1> claimed{"codeq_task_claimed_total", "Tasks claimed by workers.", {"command"}};
  CounterFamily<2> completed{"codeq_task_completed_total",
                             "Tasks that reached a terminal status (results and dead-lettering).",
                             {"command", "status"}};
  HistogramFamily<2> latency{"codeq_task_processing_latency_seconds",
                             "Seconds from task creation to its terminal status.",
                             {"command", "status"},
                             kLatencyBuckets};
  CounterFamily<1> lease_expired{"codeq_lease_expired_total",
                                 "Expired or missing leases found by claim-time repair.", {"command"}};
  CounterFamily<3> webhooks{"codeq_webhook_deliveries_total", "Webhook delivery attempts by outcome.",
                            {"kind", "command", "outcome"}};
  CounterFamily<3> http_requests{"codeq_http_requests_total", "HTTP requests answered.",
                                 {"method", "route", "status"}};
  HistogramFamily<3> http_duration{"codeq_http_request_duration_seconds",
                                   "Seconds spent answering HTTP requests.",
                                   {"method", "route", "status"},
                                   kHttpBuckets};
  HistogramFamily<1> store_duration{"codeq_store_operation_duration_seconds",
                                    "Seconds spent in one store operation.",
                                    {"op"},
                                    kStoreBuckets};
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::TaskCreated(std::string_view command) { impl_->created.Inc({command}); }

void Metrics::TaskClaimed(std::string_view command) { impl_->claimed.Inc({command}); }

void Metrics::TaskCompleted(std::string_view command, std::string_view status, double latency_seconds) {
  impl_->completed.Inc({command, status});
  impl_->latency.Observe({command, status}, latency_seconds);
}

void Metrics::LeaseExpired(std::string_view command) { impl_->lease_expired.Inc({command}); }

void Metrics::WebhookDelivery(std::string_view kind, std::string_view command,
                              std::string_view outcome) {
  impl_->webhooks.Inc({kind, command, outcome});
}

void Metrics::HttpRequest(std::string_view method, std::string_view route, int status, double seconds) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, status);
  std::string_view code(buf, end - buf);
  impl_->http_requests.Inc({method, route, code});
  impl_->http_duration.Observe({method, route, code}, seconds);
}

void Metrics::StoreOperation(std::string_view op, double seconds) {
  impl_->store_duration.Observe({op}, seconds);
}

std::string Metrics::Render(const std::optional<std::vector<QueueGauge>>& gauges) const {
  std::string out;
  out.reserve(4096);
  impl_->created.Render(out);
  impl_->claimed.Render(out);
  impl_->completed.Render(out);
  impl_->latency.Render(out);
  impl_->lease_expired.Render(out);
  impl_->webhooks.Render(out);
  if (gauges) RenderGauges(out, *gauges);
  impl_->http_requests.Render(out);
  impl_->http_duration.Render(out);
  impl_->store_duration.Render(out);
  return out;
}

}  // namespace codeq
