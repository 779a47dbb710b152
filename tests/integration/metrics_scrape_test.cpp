// GET /metrics on a real server after a full task cycle: every SPEC §7 family the build produces,
// the HTTP and store-latency families of issue 7, and `promtool check metrics` when installed.
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

class MetricsScrapeTest : public IntegrationTest {};

bool Has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST_F(MetricsScrapeTest, FamiliesAfterAFullCycle) {
  const std::string cmd = Cmd();
  CreateTask(cmd);
  auto t = ClaimOne(cmd);
  auto done = Post(TaskPath(JsonString(t, "id"), "result"), Worker(),
                   json::object{{"status", "COMPLETED"}, {"result", json::object{}}});
  ASSERT_EQ(done.status, 200) << done.Describe();
  ASSERT_EQ(GetTask(JsonString(t, "id")).status, 200);  // a get_task store operation
  CreateTask(cmd);  // one ready task for the depth gauge

  auto r = Get("/metrics", "");
  ASSERT_EQ(r.status, 200) << r.Describe();
  const std::string& m = r.body;
  EXPECT_TRUE(Has(m, "# TYPE codeq_task_created_total counter\n"));
  EXPECT_TRUE(Has(m, "# TYPE codeq_task_claimed_total counter\n"));
  EXPECT_TRUE(Has(m, "# TYPE codeq_task_completed_total counter\n"));
  EXPECT_TRUE(Has(m, "codeq_task_completed_total{command=\"" + cmd + "\",status=\"COMPLETED\"} 1\n")) << m;
  EXPECT_TRUE(Has(m, "# TYPE codeq_task_processing_latency_seconds histogram\n"));
  EXPECT_TRUE(Has(m, "# TYPE codeq_queue_depth gauge\n"));
  EXPECT_TRUE(Has(m, "codeq_queue_depth{command=\"" + cmd + "\",queue=\"ready\"} 1\n")) << m;
  EXPECT_TRUE(Has(m, "codeq_queue_depth{command=\"" + cmd + "\",queue=\"in_progress\"} 0\n")) << m;
  EXPECT_TRUE(Has(m, "codeq_dlq_depth{command=\"" + cmd + "\"} 0\n")) << m;
  EXPECT_TRUE(Has(m, "codeq_http_requests_total{method=\"POST\",route=\"/v1/codeq/tasks\",status=\"202\"}"));
  EXPECT_TRUE(Has(m, "codeq_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/codeq/tasks/claim\",status=\"200\"}"));
  EXPECT_TRUE(Has(m, "# TYPE codeq_store_operation_duration_seconds histogram\n"));
  for (const char* op : {"create", "claim", "repair", "get_task", "submit_result", "list_commands", "stats"}) {
    EXPECT_TRUE(Has(m, std::string("codeq_store_operation_duration_seconds_count{op=\"") + op + "\"}")) << op;
  }

  if (std::system("command -v promtool >/dev/null 2>&1") != 0) GTEST_SKIP() << "promtool not installed";
  auto path = std::filesystem::temp_directory_path() / ("codeq-scrape-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << m;
  int rc = std::system(("promtool check metrics < " + path.string()).c_str());
  std::filesystem::remove(path);
  EXPECT_EQ(rc, 0) << m;
}

// Spellings that differ only in case share one queue: the depth gauge shows it once (under the
// first spelling in sorted order) with the tasks of every spelling, so sums over commands hold.
TEST_F(MetricsScrapeTest, CaseVariantsOfACommandAreOneQueueSeries) {
  const std::string lower = Cmd();
  std::string upper = lower;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_NE(upper, lower);
  CreateTask(lower);
  CreateTask(upper);
  auto r = Get("/metrics", "");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_TRUE(Has(r.body, "codeq_queue_depth{command=\"" + upper + "\",queue=\"ready\"} 2\n")) << r.body;
  EXPECT_FALSE(Has(r.body, "codeq_queue_depth{command=\"" + lower + "\"")) << r.body;
}

}  // namespace
}  // namespace codeq::it
