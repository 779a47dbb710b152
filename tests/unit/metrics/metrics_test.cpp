// Metrics: the Prometheus text exposition of SPEC §7's series.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "metrics/metrics.h"

namespace codeq {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(MetricsTest, NothingObservedRendersNothing) {
  Metrics m;
  EXPECT_EQ(m.Render(std::nullopt), "");
  EXPECT_EQ(m.Render(std::vector<Metrics::QueueGauge>{}), "");
}

TEST(MetricsTest, ExactExpositionForASmallCase) {
  Metrics m;
  m.TaskCreated("render");
  m.TaskCreated("render");
  m.TaskCreated("Alpha");
  m.TaskClaimed("render");
  m.LeaseExpired("render");
  m.WebhookDelivery("task_result", "render", "success");
  m.WebhookDelivery("queue_ready", "render", "failure");
  std::vector<Metrics::QueueGauge> gauges = {{"render", 3, 1, 2, 4}};
  EXPECT_EQ(m.Render(gauges),
            "# HELP codeq_task_created_total Tasks created (idempotent replays excluded).\n"
            "# TYPE codeq_task_created_total counter\n"
            "codeq_task_created_total{command=\"Alpha\"} 1\n"
            "codeq_task_created_total{command=\"render\"} 2\n"
            "# HELP codeq_task_claimed_total Tasks claimed by workers.\n"
            "# TYPE codeq_task_claimed_total counter\n"
            "codeq_task_claimed_total{command=\"render\"} 1\n"
            "# HELP codeq_lease_expired_total Expired or missing leases found by claim-time repair.\n"
            "# TYPE codeq_lease_expired_total counter\n"
            "codeq_lease_expired_total{command=\"render\"} 1\n"
            "# HELP codeq_webhook_deliveries_total Webhook delivery attempts by outcome.\n"
            "# TYPE codeq_webhook_deliveries_total counter\n"
            "codeq_webhook_deliveries_total{kind=\"queue_ready\",command=\"render\",outcome=\"failure\"} 1\n"
            "codeq_webhook_deliveries_total{kind=\"task_result\",command=\"render\",outcome=\"success\"} 1\n"
            "# HELP codeq_queue_depth Tasks per queue of a command, read at scrape time.\n"
            "# TYPE codeq_queue_depth gauge\n"
            "codeq_queue_depth{command=\"render\",queue=\"ready\"} 3\n"
            "codeq_queue_depth{command=\"render\",queue=\"delayed\"} 1\n"
            "codeq_queue_depth{command=\"render\",queue=\"in_progress\"} 2\n"
            "codeq_queue_depth{command=\"render\",queue=\"dlq\"} 4\n"
            "# HELP codeq_dlq_depth Dead-lettered tasks of a command.\n"
            "# TYPE codeq_dlq_depth gauge\n"
            "codeq_dlq_depth{command=\"render\"} 4\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Metrics m;
  for (double v : {0.0625, 0.25, 0.5, 7.0, 4000.0, -3.0}) m.TaskCompleted("render", "COMPLETED", v);
  m.TaskCompleted("render", "FAILED", 1);
  const std::string text = m.Render(std::nullopt);
  const std::string expected_completed =
      "# HELP codeq_task_completed_total Tasks that reached a terminal status (results and "
      "dead-lettering).\n"
      "# TYPE codeq_task_completed_total counter\n"
      "codeq_task_completed_total{command=\"render\",status=\"COMPLETED\"} 6\n"
      "codeq_task_completed_total{command=\"render\",status=\"FAILED\"} 1\n";
  const std::string b = "codeq_task_processing_latency_seconds_bucket{command=\"render\",status=\"COMPLETED\",le=";
  const std::string expected_histogram =
      "# HELP codeq_task_processing_latency_seconds Seconds from task creation to its terminal status.\n"
      "# TYPE codeq_task_processing_latency_seconds histogram\n" +
      b + "\"0.1\"} 2\n" + b + "\"0.25\"} 3\n" + b + "\"0.5\"} 4\n" + b + "\"1\"} 4\n" + b +
      "\"2.5\"} 4\n" + b + "\"5\"} 4\n" + b + "\"10\"} 5\n" + b + "\"30\"} 5\n" + b + "\"60\"} 5\n" +
      b + "\"120\"} 5\n" + b + "\"300\"} 5\n" + b + "\"600\"} 5\n" + b + "\"1800\"} 5\n" + b +
      "\"3600\"} 5\n" + b + "\"+Inf\"} 6\n" +
      "codeq_task_processing_latency_seconds_sum{command=\"render\",status=\"COMPLETED\"} 4007.8125\n"
      "codeq_task_processing_latency_seconds_count{command=\"render\",status=\"COMPLETED\"} 6\n";
  EXPECT_EQ(text.substr(0, expected_completed.size() + expected_histogram.size()),
            expected_completed + expected_histogram);
  EXPECT_TRUE(Contains(
      text, "codeq_task_processing_latency_seconds_bucket{command=\"render\",status=\"FAILED\",le=\"0.5\"} 0\n"));
  EXPECT_TRUE(Contains(
      text, "codeq_task_processing_latency_seconds_bucket{command=\"render\",status=\"FAILED\",le=\"1\"} 1\n"));
  EXPECT_TRUE(Contains(text, "codeq_task_processing_latency_seconds_count{command=\"render\",status=\"FAILED\"} 1\n"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Metrics m;
  m.TaskCreated("a\\b\"c\nd");
  std::vector<Metrics::QueueGauge> gauges = {{"q\"1", 0, 0, 0, 0}};
  const std::string text = m.Render(gauges);
  EXPECT_TRUE(Contains(text, "codeq_task_created_total{command=\"a\\\\b\\\"c\\nd\"} 1\n")) << text;
  EXPECT_TRUE(Contains(text, "codeq_dlq_depth{command=\"q\\\"1\"} 0\n")) << text;
}

TEST(MetricsTest, GaugesOmittedWhenTheStoreDidNotAnswer) {
  Metrics m;
  m.TaskClaimed("x");
  const std::string text = m.Render(std::nullopt);
  EXPECT_FALSE(Contains(text, "codeq_queue_depth"));
  EXPECT_FALSE(Contains(text, "codeq_dlq_depth"));
  EXPECT_FALSE(Contains(text, "codeq_subscriptions_active"));
  EXPECT_TRUE(Contains(text, "codeq_task_claimed_total{command=\"x\"} 1\n"));
}

TEST(MetricsTest, SubscriptionsGaugeOnlyForCommandsThatReportIt) {
  Metrics m;
  std::vector<Metrics::QueueGauge> gauges = {{"a", 1, 0, 0, 0, 2}, {"b", 0, 0, 0, 0, std::nullopt}};
  const std::string text = m.Render(gauges);
  EXPECT_TRUE(Contains(text, "# TYPE codeq_subscriptions_active gauge\n"
                             "codeq_subscriptions_active{command=\"a\"} 2\n"));
  EXPECT_FALSE(Contains(text, "codeq_subscriptions_active{command=\"b\"}"));
  EXPECT_TRUE(Contains(text, "codeq_queue_depth{command=\"b\",queue=\"ready\"} 0\n"));
  gauges = {{"a", 1, 0, 0, 0}};
  EXPECT_FALSE(Contains(m.Render(gauges), "codeq_subscriptions_active"));
}

TEST(MetricsTest, HttpRequestSeries) {
  Metrics m;
  m.HttpRequest("POST", "/v1/codeq/tasks/claim", 204, 12.0);
  m.HttpRequest("POST", "/v1/codeq/tasks/claim", 200, 0.003);
  m.HttpRequest("GET", "/v1/codeq/tasks/:id", 404, 0.001);
  const std::string text = m.Render(std::nullopt);
  EXPECT_TRUE(Contains(text, "# TYPE codeq_http_requests_total counter\n"));
  EXPECT_TRUE(Contains(
      text, "codeq_http_requests_total{method=\"POST\",route=\"/v1/codeq/tasks/claim\",status=\"204\"} 1\n"));
  EXPECT_TRUE(Contains(
      text, "codeq_http_requests_total{method=\"GET\",route=\"/v1/codeq/tasks/:id\",status=\"404\"} 1\n"));
  EXPECT_TRUE(Contains(text, "# TYPE codeq_http_request_duration_seconds histogram\n"));
  // Latency is split by status too (issue 7: "latency histograms by route and status").
  const std::string slow =
      "codeq_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/codeq/tasks/claim\",status=\"204\",";
  const std::string fast =
      "codeq_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/codeq/tasks/claim\",status=\"200\",";
  EXPECT_TRUE(Contains(text, fast + "le=\"0.005\"} 1\n"));
  EXPECT_TRUE(Contains(text, slow + "le=\"10\"} 0\n"));
  EXPECT_TRUE(Contains(text, slow + "le=\"30\"} 1\n"));
  EXPECT_TRUE(Contains(text, slow + "le=\"+Inf\"} 1\n"));
  EXPECT_TRUE(Contains(
      text,
      "codeq_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/codeq/tasks/claim\",status=\"204\"} 1\n"));
}

TEST(MetricsTest, StoreOperationHistogram) {
  Metrics m;
  EXPECT_FALSE(Contains(m.Render(std::nullopt), "codeq_store_operation_duration_seconds"));
  m.StoreOperation("claim", 0.0002);
  m.StoreOperation("claim", 0.002);
  m.StoreOperation("create", 7.0);
  const std::string text = m.Render(std::nullopt);
  EXPECT_TRUE(Contains(text, "# TYPE codeq_store_operation_duration_seconds histogram\n"));
  EXPECT_TRUE(Contains(text, "codeq_store_operation_duration_seconds_bucket{op=\"claim\",le=\"0.00025\"} 1\n"));
  EXPECT_TRUE(Contains(text, "codeq_store_operation_duration_seconds_bucket{op=\"claim\",le=\"0.0025\"} 2\n"));
  EXPECT_TRUE(Contains(text, "codeq_store_operation_duration_seconds_bucket{op=\"create\",le=\"5\"} 0\n"));
  EXPECT_TRUE(Contains(text, "codeq_store_operation_duration_seconds_bucket{op=\"create\",le=\"+Inf\"} 1\n"));
  EXPECT_TRUE(Contains(text, "codeq_store_operation_duration_seconds_count{op=\"claim\"} 2\n"));
}

TEST(MetricsTest, ConcurrentObservationsAreAllCounted) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 5000; ++i) {
        m.TaskCreated(t % 2 ? "odd" : "even");
        m.TaskCompleted("c", "COMPLETED", 1.0);
        if (i % 1000 == 0) m.Render(std::nullopt);
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string text = m.Render(std::nullopt);
  EXPECT_TRUE(Contains(text, "codeq_task_created_total{command=\"even\"} 20000\n"));
  EXPECT_TRUE(Contains(text, "codeq_task_created_total{command=\"odd\"} 20000\n"));
  EXPECT_TRUE(Contains(text, "codeq_task_processing_latency_seconds_count{command=\"c\",status=\"COMPLETED\"} 40000\n"));
  EXPECT_TRUE(Contains(text, "codeq_task_processing_latency_seconds_sum{command=\"c\",status=\"COMPLETED\"} 40000\n"));
}

TEST(MetricsTest, PromtoolAcceptsTheExposition) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
  Metrics m;
  m.TaskCreated("render");
  m.TaskClaimed("render");
  m.TaskCompleted("render", "COMPLETED", 3);
  m.LeaseExpired("render");
  m.WebhookDelivery("task_result", "render", "success");
  m.HttpRequest("GET", "/healthz", 200, 0.001);
  m.StoreOperation("claim", 0.001);
  std::vector<Metrics::QueueGauge> gauges = {{"render", 1, 2, 3, 4, 5}};
  auto path = std::filesystem::temp_directory_path() /
              ("codeq-metrics-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << m.Render(gauges);
  int rc = std::system(("promtool check metrics < " + path.string()).c_str());
  std::filesystem::remove(path);
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace codeq
