// Unit tests of the handler protocol and the login helpers (no server needed).
#include <gtest/gtest.h>

#include "cli/auth_login.h"
#include "cli/handler_outcome.h"

namespace codeq::cli {
namespace {

namespace json = boost::json;

HandlerRun Exited(int code, std::string out, std::string err = "") {
  HandlerRun r;
  r.end = HandlerRun::End::kExited;
  r.exit_code = code;
  r.stdout_text = std::move(out);
  r.stderr_tail = std::move(err);
  return r;
}

TEST(HandlerOutcome, ParsesTheProtocol) {
  Ack a = AckForRun(Exited(0, R"({"status":"COMPLETED","result":{"x":1},"artifacts":[{"name":"a","url":"u"}]})"), 0);
  EXPECT_EQ(a.kind, Ack::Kind::kComplete);
  EXPECT_EQ(json::serialize(a.Body()), R"({"status":"COMPLETED","result":{"x":1},"artifacts":[{"name":"a","url":"u"}]})");
  a = AckForRun(Exited(0, "  {\"status\":\"completed\"}\n"), 0);  // case-insensitive status, whitespace
  EXPECT_EQ(json::serialize(a.Body()), R"({"status":"COMPLETED","result":{}})");
  a = AckForRun(Exited(0, R"({"status":"FAILED","error":"boom"})"), 0);
  EXPECT_EQ(json::serialize(a.Body()), R"({"status":"FAILED","error":"boom"})");
  a = AckForRun(Exited(0, R"({"status":"NACK","delaySeconds":7,"reason":"later"})"), 0);
  EXPECT_EQ(json::serialize(a.Body()), R"({"delaySeconds":7,"reason":"later"})");
  a = AckForRun(Exited(0, R"({"status":"NACK"})"), 0);
  EXPECT_EQ(json::serialize(a.Body()), R"({"reason":"handler requested retry"})");  // server backoff
  EXPECT_EQ(AckForRun(Exited(0, R"({"status":"ABANDON"})"), 0).kind, Ack::Kind::kAbandon);
}

TEST(HandlerOutcome, EveryFailureIsAFailWithAReason) {
  EXPECT_EQ(AckForRun(Exited(2, R"({"status":"COMPLETED"})", "line 1\nfatal: disk full\n\n"), 0).error,
            "handler exited with code 2: fatal: disk full");
  EXPECT_EQ(AckForRun(Exited(0, ""), 0).error,
            "handler output invalid: no output (print one JSON object on stdout; log to stderr)");
  EXPECT_EQ(AckForRun(Exited(0, "{} {}"), 0).kind, Ack::Kind::kFail);
  EXPECT_EQ(AckForRun(Exited(0, R"({"status":"NACK","delaySeconds":"5"})"), 0).error,
            "handler output invalid: \"delaySeconds\" must be an integer");
  HandlerRun sig;
  sig.end = HandlerRun::End::kSignaled;
  sig.signal = 9;
  EXPECT_EQ(AckForRun(sig, 0).error, "handler killed by signal 9 (SIGKILL)");
  HandlerRun slow;
  slow.end = HandlerRun::End::kTimedOut;
  EXPECT_EQ(AckForRun(slow, 30).error, "handler timed out after 30s");
  HandlerRun big = Exited(0, "{");
  big.stdout_truncated = true;
  EXPECT_EQ(AckForRun(big, 0).error, "handler output invalid: more than 16 MiB on stdout");
}

TEST(LoginHelpers, TemplatesAndPaths) {
  TemplateValues v{{"email", "a+b@c.d"}, {"password", "p\"\\x"}, {"iamBaseUrl", "https://id/x"}, {"apiKey", "k 1"}};
  EXPECT_EQ(*RenderTemplate("{{iamBaseUrl}}/login?key={{apiKey}}&u={{ email }}", v, Escape::kUrl),
            "https://id/x/login?key=k%201&u=a%2Bb%40c.d");
  EXPECT_EQ(*RenderTemplate(R"({"e":"{{email}}","p":"{{password}}"})", v, Escape::kJson),
            R"({"e":"a+b@c.d","p":"p\"\\x"})");
  EXPECT_FALSE(RenderTemplate("{{what}}", v, Escape::kNone).ok());
  EXPECT_FALSE(RenderTemplate("{{email", v, Escape::kNone).ok());
  EXPECT_EQ(BodyEscapeFor("application/json; charset=utf-8"), Escape::kJson);
  EXPECT_EQ(BodyEscapeFor("application/x-www-form-urlencoded"), Escape::kForm);

  json::value doc = json::parse(R"({"a":{"b":[{"c":"deep"}],"n":1},"x/y":"slash"})");
  EXPECT_EQ(StringAtPath(doc, "a.b.0.c"), "deep");
  EXPECT_EQ(StringAtPath(doc, "x/y"), "slash");
  EXPECT_EQ(StringAtPath(doc, "a.n"), std::nullopt);  // not a string
  EXPECT_EQ(StringAtPath(doc, "a.missing"), std::nullopt);
  EXPECT_EQ(ProfileNameForEmail("Ann.Lee@Example.COM"), "ann_lee_example_com");
}

}  // namespace
}  // namespace codeq::cli
