// Root endpoints and generic HTTP behaviour: /healthz, /metrics, unknown routes, wrong methods,
// request ids, keep-alive (SPEC §2.1, §2.16, §7, D8, D19).
#include <regex>

#include "integration/it_fixture.h"
#include "support/raw_connection.h"

namespace codeq::it {
namespace {

class MiscHttp : public IntegrationTest {};

TEST_F(MiscHttp, HealthzAndReadyz) {
  for (const char* path : {"/healthz", "/readyz"}) {
    auto r = Get(path, "");
    ASSERT_EQ(r.status, 200) << path << " -> " << r.Describe();
    EXPECT_EQ(r.Json(), json::parse(R"({"status":"ok"})")) << path;
    EXPECT_NE(r.Header("Content-Type").value_or("").find("application/json"), std::string::npos);
  }
}

TEST_F(MiscHttp, MetricsExposeCounters) {
  const std::string cmd = Cmd();
  CreateTask(cmd);
  CreateTask(cmd);
  ClaimOne(cmd);
  auto r = Get("/metrics", "");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_NE(r.Header("Content-Type").value_or("").find("text/plain"), std::string::npos);
  EXPECT_NE(r.body.find("codeq_task_created_total"), std::string::npos) << r.body.substr(0, 2000);
  // The counter for this command counts both creates; the claim counter counts one.
  std::regex created("codeq_task_created_total\\{[^}]*command=\"" + cmd + "\"[^}]*\\} 2(\\.0+)?\\n");
  EXPECT_TRUE(std::regex_search(r.body, created)) << r.body.substr(0, 4000);
  std::regex claimed("codeq_task_claimed_total\\{[^}]*command=\"" + cmd + "\"[^}]*\\} 1(\\.0+)?\\n");
  EXPECT_TRUE(std::regex_search(r.body, claimed)) << r.body.substr(0, 4000);
  // Metrics are unauthenticated and do not require a token even when one is sent.
  EXPECT_EQ(Get("/metrics", "garbage").status, 200);
}

TEST_F(MiscHttp, UnknownRoutesAre404Json) {
  for (const char* path : {"/nope", "/healthz//", "/v1/codeq", "/v1/codeq/nothing", "/v1/codeq/tasks/a/b/c", "/v2/codeq/tasks",
                           "/v1/codeq/admin/queues/a/b", "/v1/codeq/tasks/id/explode"}) {
    auto r = Get(path, Producer());
    EXPECT_EQ(r.status, 404) << path << " -> " << r.Describe();
    EXPECT_EQ(r.Json(), json::parse(R"({"error":"not found"})")) << path;
  }
  EXPECT_EQ(Get("/healthz/", "").status, 200) << "one trailing slash is tolerated";
  auto post = Post("/v1/codeq/unknown", Producer(), json::object{});
  EXPECT_EQ(post.status, 404) << post.Describe();
}

TEST_F(MiscHttp, WrongMethodsAre405) {
  // Each with the Allow header a 405 must carry (RFC 9110 §15.5.6).
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"GET", "/v1/codeq/tasks", "POST"},
      {"DELETE", "/v1/codeq/tasks", "POST"},
      {"PUT", "/v1/codeq/tasks/x", "GET, HEAD"},
      {"POST", "/healthz", "GET, HEAD"},
      {"DELETE", "/metrics", "GET, HEAD"},
      {"POST", "/v1/codeq/admin/queues", "GET, HEAD"},
      {"GET", "/v1/codeq/tasks/x/nack", "POST"},
      {"PUT", "/v1/codeq/tasks/x/result", "GET, HEAD, POST"},
      {"GET", "/v1/codeq/admin/tasks/cleanup", "POST"},
      {"PUT", "/v1/codeq/tasks/claim", "POST"},
      {"DELETE", "/v1/codeq/tasks/batch", "POST"}};
  for (const auto& [method, path, allow] : cases) {
    auto r = Call(method, path, Producer(), method == "GET" ? "" : "{}");
    EXPECT_EQ(r.status, 405) << method << " " << path << " -> " << r.Describe();
    EXPECT_FALSE(r.ErrorText().empty()) << method << " " << path;
    EXPECT_EQ(r.Header("Allow").value_or("<none>"), allow) << method << " " << path;
  }
}

// HEAD answers like GET without the body (RFC 9110 §9.3.2): load-balancer probes use it. The
// connection stays usable, so the client and server agree that no body followed.
TEST_F(MiscHttp, HeadAnswersLikeGetWithoutABody) {
  const std::string get_body = Get("/healthz", "").body;
  auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
  ASSERT_TRUE(conn);
  ASSERT_TRUE(conn->Send(test::HttpRequestText("HEAD", "/healthz", {})));
  ASSERT_TRUE(conn->ReadSome(std::chrono::seconds(5)));
  const std::string head = conn->Received();
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Length: " + std::to_string(get_body.size()) + "\r\n"), std::string::npos) << head;
  ASSERT_NE(head.find("\r\n\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "") << "HEAD answer carried a body";
  // The same connection then serves a GET.
  ASSERT_TRUE(conn->Send(test::HttpRequestText("GET", "/healthz", {"Connection: close"})));
  EXPECT_TRUE(conn->WaitClosed(std::chrono::seconds(5)));
  EXPECT_NE(conn->Received().find(get_body, head.size()), std::string::npos) << conn->Received();
  // HEAD of an authenticated route needs the token like GET does.
  EXPECT_EQ(Call("HEAD", "/v1/codeq/admin/queues", "", "").status, 401);
  // Errors of the HTTP layer itself (here 413 for a declared body over the limit) have no body either.
  auto big = test::RawConnection::Connect("127.0.0.1", codeq().port());
  ASSERT_TRUE(big);
  ASSERT_TRUE(big->Send(test::HttpRequestText("HEAD", "/healthz", {"Content-Length: 99999999"})));
  EXPECT_TRUE(big->WaitClosed(std::chrono::seconds(5)));
  const std::string refused = big->Received();
  EXPECT_EQ(refused.rfind("HTTP/1.1 413", 0), 0u) << refused;
  ASSERT_NE(refused.find("\r\n\r\n"), std::string::npos) << refused;
  EXPECT_EQ(refused.substr(refused.find("\r\n\r\n") + 4), "") << "HEAD error answer carried a body";
}

// The server writes its answers' header block itself (http/server.cpp, Render): Connection says
// close where a 1.1 connection ends and keep-alive where a 1.0 one stays, Content-Length always
// matches the body, and the connection does what the header says.
TEST_F(MiscHttp, AnswersCarryConnectionAndContentLengthByHttpVersion) {
  const std::string body = Get("/healthz", "").body;
  const std::string length = "Content-Length: " + std::to_string(body.size()) + "\r\n";
  {  // 1.1, keep-alive by default: no Connection header, the connection stays open.
    auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(test::HttpRequestText("GET", "/healthz", {})));
    ASSERT_TRUE(conn->ReadResponse(std::chrono::seconds(5)));
    EXPECT_EQ(conn->Received().rfind("HTTP/1.1 200 OK\r\nServer: codeq\r\n", 0), 0u) << conn->Received();
    EXPECT_NE(conn->Received().find(length), std::string::npos) << conn->Received();
    EXPECT_EQ(conn->Received().find("Connection:"), std::string::npos) << conn->Received();
    EXPECT_EQ(conn->ResponseBody(), body);
    EXPECT_FALSE(conn->WaitClosed(std::chrono::milliseconds(300)));
  }
  {  // 1.1 with Connection: close: said back, then closed.
    auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(test::HttpRequestText("GET", "/healthz", {"Connection: close"})));
    EXPECT_TRUE(conn->WaitClosed(std::chrono::seconds(5)));
    EXPECT_NE(conn->Received().find("\r\nConnection: close\r\n"), std::string::npos) << conn->Received();
    EXPECT_EQ(conn->ResponseBody(), body);
  }
  {  // 1.0 asking for keep-alive: said back, and a second request is served on the connection.
    auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    ASSERT_TRUE(conn->ReadResponse(std::chrono::seconds(5)));
    EXPECT_EQ(conn->Received().rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << conn->Received();
    EXPECT_NE(conn->Received().find("\r\nConnection: keep-alive\r\n"), std::string::npos) << conn->Received();
    EXPECT_NE(conn->Received().find(length), std::string::npos) << conn->Received();
    const size_t first = conn->Received().size();
    ASSERT_TRUE(conn->Send("GET /nope HTTP/1.0\r\n\r\n"));  // 1.0 without keep-alive: then closed
    EXPECT_TRUE(conn->WaitClosed(std::chrono::seconds(5)));
    const std::string second = conn->Received().substr(first);
    EXPECT_EQ(second.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u) << second;
    EXPECT_EQ(second.find("Connection:"), std::string::npos) << second;
    EXPECT_NE(second.find("{\"error\":\"not found\"}"), std::string::npos) << second;
  }
}

// A 204 (a claim with nothing to claim) has no body and so neither Content-Type nor
// Content-Length (RFC 9110 §8.6); the connection then serves the next request.
TEST_F(MiscHttp, NoContentAnswerHasNoBodyHeaders) {
  auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
  ASSERT_TRUE(conn);
  const std::string claim = R"({"commands":[")" + Cmd() + R"("],"waitSeconds":0})";
  ASSERT_TRUE(conn->Send(test::HttpRequestText("POST", "/v1/codeq/tasks/claim",
                                               {"Authorization: Bearer " + Worker(), "Content-Type: application/json"},
                                               claim)));
  ASSERT_TRUE(conn->ReadResponse(std::chrono::seconds(5))) << conn->Received();
  const std::string first = conn->Received();
  EXPECT_EQ(first.rfind("HTTP/1.1 204 No Content\r\n", 0), 0u) << first;
  EXPECT_EQ(first.find("Content-Length"), std::string::npos) << first;
  EXPECT_EQ(first.find("Content-Type"), std::string::npos) << first;
  ASSERT_NE(first.find("\r\n\r\n"), std::string::npos) << first;
  EXPECT_EQ(first.substr(first.find("\r\n\r\n") + 4), "") << first;
  ASSERT_TRUE(conn->Send(test::HttpRequestText("GET", "/healthz", {"Connection: close"})));
  EXPECT_TRUE(conn->WaitClosed(std::chrono::seconds(5)));
  EXPECT_NE(conn->Received().find("{\"status\":\"ok\"}", first.size()), std::string::npos) << conn->Received();
}

// Expect: 100-continue gets the interim answer, then the final one, on the same connection.
TEST_F(MiscHttp, ExpectContinueGetsInterimThenFinalAnswer) {
  auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
  ASSERT_TRUE(conn);
  const std::string body = R"({"command":")" + Cmd() + R"(","payload":{"n":1}})";
  ASSERT_TRUE(conn->Send("POST /v1/codeq/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + Producer() +
                         "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n"));
  ASSERT_TRUE(conn->ReadSome(std::chrono::seconds(5)));
  EXPECT_EQ(conn->Received().rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << conn->Received();
  ASSERT_TRUE(conn->Send(body));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (conn->Received().find("HTTP/1.1 202") == std::string::npos && std::chrono::steady_clock::now() < deadline &&
         conn->ReadSome(std::chrono::milliseconds(200))) {
  }
  const std::string all = conn->Received();
  const size_t final_at = all.find("HTTP/1.1 202 Accepted\r\n");
  ASSERT_NE(final_at, std::string::npos) << all;
  EXPECT_NE(all.find("\"status\":\"PENDING\"", final_at), std::string::npos) << all;
}

TEST_F(MiscHttp, RequestIdIsEchoedOrGenerated) {
  auto echoed = Get("/healthz", "", {{"X-Request-Id", "it-req-42"}});
  EXPECT_EQ(echoed.Header("X-Request-Id").value_or(""), "it-req-42");
  // Also on errors.
  auto err = Get("/nope", "", {{"X-Request-Id", "err-7"}});
  EXPECT_EQ(err.Header("X-Request-Id").value_or(""), "err-7");
  auto generated = Get("/healthz", "");
  const std::string id = generated.Header("X-Request-Id").value_or("");
  EXPECT_TRUE(std::regex_match(id, std::regex("^[0-9a-f]{32}$"))) << "'" << id << "'";
  auto another = Get("/healthz", "");
  EXPECT_NE(another.Header("X-Request-Id").value_or(""), id) << "fresh per request";
}

// A request id with bytes outside printable ASCII is replaced, not echoed (it would also land raw
// in the JSON access log).
TEST_F(MiscHttp, UnprintableRequestIdIsReplaced) {
  for (std::string bad : {std::string("\xff\xfe"), std::string("has space"), std::string(129, 'a')}) {
    auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
    ASSERT_TRUE(conn);
    ASSERT_TRUE(conn->Send(test::HttpRequestText("GET", "/healthz", {"X-Request-Id: " + bad, "Connection: close"})));
    ASSERT_TRUE(conn->ReadResponse(std::chrono::seconds(5)));
    EXPECT_EQ(conn->ResponseStatus(), 200);
    EXPECT_TRUE(std::regex_search(conn->Received(), std::regex("X-Request-Id: [0-9a-f]{32}\r\n")))
        << conn->Received();
  }
}

// Method names that are not HTTP methods share one label value, so clients cannot grow /metrics.
TEST_F(MiscHttp, InventedMethodsShareOneMetricsLabel) {
  for (int i = 0; i < 3; ++i) {
    auto conn = test::RawConnection::Connect("127.0.0.1", codeq().port());
    ASSERT_TRUE(conn);
    const std::string method = "XINVENTED" + std::to_string(i);
    ASSERT_TRUE(conn->Send(test::HttpRequestText(method, "/healthz", {"Connection: close"})));
    ASSERT_TRUE(conn->ReadResponse(std::chrono::seconds(5)));
    EXPECT_EQ(conn->ResponseStatus(), 405) << conn->Received();
  }
  auto m = Get("/metrics", "");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.body.find("XINVENTED"), std::string::npos);
  EXPECT_NE(m.body.find("codeq_http_requests_total{method=\"OTHER\",route=\"/healthz\",status=\"405\"}"),
            std::string::npos)
      << m.body.substr(0, 4000);
}

TEST_F(MiscHttp, KeepAliveConnectionServesManyRequests) {
  const std::string cmd = Cmd();
  auto client = codeq().NewClient(true);
  for (int i = 0; i < 20; ++i) {
    auto r = client->Request("POST", "/v1/codeq/tasks", Auth(Producer()),
                             json::serialize(json::object{{"command", cmd}, {"payload", i}}));
    ASSERT_EQ(r.status, 202) << r.Describe();
  }
  auto s = client->Request("GET", "/v1/codeq/admin/queues/" + cmd, Auth(Admin()));
  EXPECT_EQ(JsonInt(s.Json(), "ready"), 20) << s.Describe();
}

}  // namespace
}  // namespace codeq::it
