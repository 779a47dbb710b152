// Graceful shutdown of `codeq serve` (SPEC §8.4): SIGTERM answers waiting long-poll claims with
// 204 and the process exits 0 within the 10 s budget. Runs last in its own environment.
#include <future>
#include <thread>

#include "integration/it_fixture.h"

namespace codeq::it {
namespace {

class Shutdown : public IntegrationTest {};

TEST_F(Shutdown, SigtermAnswersWaitingClaimsAndExitsZero) {
  const std::string cmd = Cmd();
  const int port = codeq().port();
  const std::string worker = Worker();
  std::vector<std::future<HttpResponse>> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] {
      HttpClient c("127.0.0.1", port);
      return c.Request("POST", "/v1/codeq/tasks/claim", Auth(worker),
                       json::serialize(json::object{{"commands", json::array{json::value(cmd)}}, {"waitSeconds", 25}}),
                       std::chrono::milliseconds(30000));
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto start = std::chrono::steady_clock::now();
  auto status = codeq().Stop(std::chrono::seconds(15));
  auto stop_ms = MsSince(start);
  ASSERT_TRUE(status.has_value()) << "codeq was not running";
  EXPECT_EQ(*status, 0) << "exit status after SIGTERM\n" << codeq().LogTail(2000);
  EXPECT_LT(stop_ms, 10500) << "shutdown exceeded its 10 s budget";
  for (auto& f : waiting) {
    auto r = f.get();
    EXPECT_EQ(r.status, 204) << "a waiting claim at shutdown -> " << r.Describe();
    EXPECT_LT(r.elapsed.count(), 10000) << "the claim waited for its full window";
  }
  // Restart for the suite's teardown (same data dir and key).
  std::string error;
  ASSERT_TRUE(codeq().Start(&error)) << error;
  EXPECT_EQ(Get("/healthz", "").status, 200);
}

}  // namespace
}  // namespace codeq::it
