#include <gtest/gtest.h>

#include <ctime>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "domain/json_read.h"
#include "domain/json_text.h"
#include "domain/keys.h"
#include "domain/task.h"
#include "domain/time_format.h"

namespace codeq {
namespace {

TEST(TimeFormat, FormatsUtcWithTrimmedFraction) {
  EXPECT_EQ(FormatTimestamp(1769335200000), "2026-01-25T10:00:00Z");
  EXPECT_EQ(FormatTimestamp(1769335200120), "2026-01-25T10:00:00.12Z");
  EXPECT_EQ(FormatUtcSeconds(1769346300), "2026-01-25T13:05:00Z");
}

// The UTC formatting computes the calendar itself; gmtime_r + strftime is the reference.
std::string ReferenceUtc(int64_t epoch_seconds) {
  time_t secs = static_cast<time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

TEST(TimeFormat, UtcCalendarMatchesGmtimeAcrossYears1000To9999) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> any(-30610224000, 253402300799);  // 1000-01-01 .. 9999-12-31
  std::vector<int64_t> cases = {0, -1, 59, 86399, 86400, 951782400 /* 2000-02-29 */, 4107542400 /* 2100-02-28 */,
                                -30610224000, 253402300799, -2208988800 /* 1900-01-01 */};
  for (int i = 0; i < 20000; ++i) cases.push_back(any(rng));
  for (int64_t s : cases) {
    ASSERT_EQ(FormatUtcSeconds(s), ReferenceUtc(s)) << s;
    std::string with_ms = ReferenceUtc(s);
    with_ms.insert(with_ms.size() - 1, ".5");
    ASSERT_EQ(FormatTimestamp(s * 1000 + 500), with_ms) << s;
  }
  // Outside years 1000..9999 the text is strftime's.
  EXPECT_EQ(FormatUtcSeconds(253402300800), ReferenceUtc(253402300800));
  EXPECT_EQ(FormatUtcSeconds(-30610224001), ReferenceUtc(-30610224001));
  EXPECT_EQ(FormatUtcSeconds(-62167219200), ReferenceUtc(-62167219200));
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(1769335200001), "2026-01-25T10:00:00.001Z");
}

TEST(TimeFormat, ParsesRfc3339WithOffsetsAndFractions) {
  EXPECT_EQ(ParseRfc3339Ms("2026-01-25T10:00:00Z"), 1769335200000);
  EXPECT_EQ(ParseRfc3339Ms("2026-01-25T07:00:00-03:00"), 1769335200000);
  EXPECT_EQ(ParseRfc3339Ms("2026-01-25T10:00:00.123456789Z"), 1769335200123);
  EXPECT_EQ(ParseRfc3339Ms("2026-01-25T10:00:00.1234567890123Z"), 1769335200123);  // any digit count
  EXPECT_FALSE(ParseRfc3339Ms("2026-01-25T10:00:00.Z"));
  EXPECT_FALSE(ParseRfc3339Ms("2026-01-25 10:00"));
  EXPECT_FALSE(ParseRfc3339Ms("2026-02-30T10:00:00Z"));
  EXPECT_FALSE(ParseRfc3339Ms("2026-01-25T10:00:00"));
  EXPECT_FALSE(ParseRfc3339Ms("tomorrow"));
}

TEST(TimeFormat, DisplayZoneUsesOffset) {
  ASSERT_TRUE(SetDisplayTimeZone("America/Sao_Paulo"));
  EXPECT_EQ(FormatTimestamp(1769335200000), "2026-01-25T07:00:00-03:00");
  EXPECT_FALSE(SetDisplayTimeZone("Nowhere/Atlantis"));
  EXPECT_EQ(FormatTimestamp(1769335200000), "2026-01-25T10:00:00Z");
}

TEST(Keys, TenantSegmentAndLowerCase) {
  EXPECT_EQ(keys::Pending("Render", "", 12), "codeq:q:render:pending:9");
  EXPECT_EQ(keys::Pending("Render", "acme", -1), "codeq:q:render:acme:pending:0");
  EXPECT_EQ(keys::InProgress("GENERATE_MASTER", "acme"), "codeq:q:generate_master:acme:inprog");
  EXPECT_EQ(keys::Delayed("x", ""), "codeq:q:x:delayed");
  EXPECT_EQ(keys::Dlq("x", "t"), "codeq:q:x:t:dlq");
  EXPECT_EQ(keys::Idempotency("", "k1"), "codeq:idempo:k1");
  EXPECT_EQ(keys::Idempotency("acme", "k1"), "codeq:idempo:acme:k1");
  EXPECT_EQ(keys::CommandsMember("", "Render"), "|Render");
}

// TaskToJsonText writes the text directly; it must be exactly what serializing TaskToJson gives,
// for every field filled or empty and for every byte value in the strings (escapes included).
TEST(TaskCodec, DirectTextMatchesSerializedObject) {
  Task full;
  full.id = "a5a4d2ad-5f7e-4a55-a070-29a9a4c2a8f4";
  full.command = "Render";
  full.payload = R"({"a":[1,2.5,"x\"y"],"b":null})";
  full.priority = 9;
  full.webhook = "https://example.com/hook?a=1&b=2";
  full.status = "IN_PROGRESS";
  full.worker_id = "worker-1";
  full.lease_until = "2026-01-25T10:05:00Z";
  full.attempts = 3;
  full.max_attempts = -7;
  full.error = "boom";
  full.result_key = "codeq:result:a5a4d2ad";
  full.tenant_id = "acme";
  full.created_at = "2026-01-25T10:00:00.123+01:00";
  full.updated_at = "2026-01-25T10:01:00Z";
  EXPECT_EQ(TaskToJsonText(full), boost::json::serialize(TaskToJson(full)));
  EXPECT_EQ(TaskToJsonText(Task{}), boost::json::serialize(TaskToJson(Task{})));

  std::string every_byte;
  for (int c = 0; c < 256; ++c) every_byte += static_cast<char>(c);
  Task odd = full;
  odd.id = odd.command = odd.payload = odd.webhook = odd.error = odd.tenant_id = every_byte;
  EXPECT_EQ(TaskToJsonText(odd), boost::json::serialize(TaskToJson(odd)));

  // Valid UTF-8 with escapes round-trips (a lone byte >= 0x80 above is not valid UTF-8, which
  // the API never stores: its JSON parser refuses it).
  Task escaped = full;
  escaped.worker_id = std::string("\0\x7f\xc3\xa9\xe2\x80\xa8\"\\/\n\x1f", 12);
  EXPECT_EQ(TaskToJsonText(escaped), boost::json::serialize(TaskToJson(escaped)));
  auto back = TaskFromJsonText(TaskToJsonText(escaped));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->worker_id, escaped.worker_id);
  EXPECT_EQ(back->payload, full.payload);
}

// TaskResultToJsonText is written directly too: exactly the serialized TaskResultToJson.
TEST(TaskCodec, DirectResultTextMatchesSerializedObject) {
  std::string every_byte;
  for (int c = 0; c < 256; ++c) every_byte += static_cast<char>(c);
  TaskResult full;
  full.task_id = "a5a4d2ad-5f7e-4a55-a070-29a9a4c2a8f4";
  full.status = "FAILED";
  full.result = boost::json::object{{"a", boost::json::array{1, 2.5, "x\"y", nullptr}}, {"b", every_byte}};
  full.error = every_byte;
  full.artifacts = {{"out.png", "https://example.com/a?x=1&y=2"}, {every_byte, "u"}};
  full.completed_at = "2026-01-25T10:00:00.5Z";
  EXPECT_EQ(TaskResultToJsonText(full), boost::json::serialize(TaskResultToJson(full)));
  EXPECT_EQ(TaskResultToJsonText(TaskResult{}), boost::json::serialize(TaskResultToJson(TaskResult{})));
  TaskResult empty_result = full;
  empty_result.result = boost::json::object{};  // an empty result object is omitted
  empty_result.artifacts.resize(1);
  EXPECT_EQ(TaskResultToJsonText(empty_result), boost::json::serialize(TaskResultToJson(empty_result)));
  EXPECT_EQ(TaskResultToJsonText(empty_result).find("\"result\""), std::string::npos);
  full.task_id = every_byte;
  EXPECT_EQ(TaskResultToJsonText(full), boost::json::serialize(TaskResultToJson(full)));
}

TEST(TaskCodec, OmitsEmptyFieldsAndRoundTrips) {
  Task t;
  t.id = "a5a4d2ad-5f7e-4a55-a070-29a9a4c2a8f4";
  t.command = "Render";
  t.payload = R"({"a":1})";
  t.status = "PENDING";
  t.max_attempts = 5;
  t.created_at = t.updated_at = "2026-01-25T10:00:00Z";
  auto o = TaskToJson(t);
  EXPECT_FALSE(o.contains("priority"));
  EXPECT_FALSE(o.contains("workerId"));
  EXPECT_FALSE(o.contains("attempts"));
  EXPECT_EQ(o.at("maxAttempts").as_int64(), 5);
  auto back = TaskFromJsonText(TaskToJsonText(t));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->payload, t.payload);
  EXPECT_EQ(back->max_attempts, 5);
}

TEST(TaskCodec, RejectsGarbage) {
  EXPECT_FALSE(TaskFromJsonText("not json").ok());
  EXPECT_FALSE(TaskFromJsonText("[]").ok());
  EXPECT_FALSE(TaskFromJsonText(R"({"id":5})").ok());
  EXPECT_FALSE(TaskFromJsonText(R"({"command":"x"})").ok());
}

TEST(TaskCodec, OutOfRangeIntegersSaturate) {
  // Found by fuzz/migrate_task_fuzz.cpp under UBSan: an integral double beyond int64 (as a foreign
  // writer may store it) was converted with undefined behaviour.
  auto t = TaskFromJsonText(R"({"id":"a","maxAttempts":5.6e65,"attempts":-1e300,"priority":4294967297})");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->max_attempts, std::numeric_limits<int>::max());
  EXPECT_EQ(t->attempts, std::numeric_limits<int>::min());
  EXPECT_EQ(t->priority, std::numeric_limits<int>::max());
  EXPECT_FALSE(TaskFromJsonText(R"({"id":"a","attempts":1.5})").ok());
}

TEST(CanonicalJson, SortsKeysAndKeepsIntegers) {
  auto v = boost::json::parse(R"({"b":1,"a":{"z":[3,{"y":1,"x":2}],"c":9007199254740993}})");
  EXPECT_EQ(CanonicalJson(v), R"({"a":{"c":9007199254740993,"z":[3,{"x":2,"y":1}]},"b":1})");
  EXPECT_EQ(CanonicalJson(boost::json::parse(R"("hi")")), R"("hi")");
}

// AppendJsonString scans 8 bytes at a time: every byte value, at every offset of a plain string
// of every length up to 24, must come out exactly as json::serialize writes it.
TEST(JsonText, AppendJsonStringMatchesSerializeAtEveryOffset) {
  for (size_t len = 1; len <= 24; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (int c = 0; c < 256; ++c) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(c);
        std::string out = "x";  // appends after what is there
        AppendJsonString(out, s);
        ASSERT_EQ(out, "x" + boost::json::serialize(boost::json::string(s))) << len << " " << at << " " << c;
      }
    }
  }
  std::string out;
  AppendJsonString(out, "");
  EXPECT_EQ(out, "\"\"");
  // Random strings dense in bytes that need escaping, and in bytes >= 0x80.
  std::mt19937 rng(5);
  const std::string special = std::string("\"\\\x00\x01\x1f\x20\x7f\x80\xff\n\t", 11);
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 40, 'a');
    for (char& c : s) {
      if (rng() % 3 == 0) c = special[rng() % special.size()];
      else if (rng() % 4 == 0) c = static_cast<char>(rng());
    }
    std::string got;
    AppendJsonString(got, s);
    ASSERT_EQ(got, boost::json::serialize(boost::json::string(s))) << i;
  }
}

// TaskFromJsonText reads members straight off the parser; the reference below is the former
// reading over a parsed json::object (GetString/GetInt). Both must agree on every document:
// duplicates (the last counts), nulls, wrong types, nested values, numbers of every kind,
// non-objects and trailing bytes.
std::optional<Task> ReferenceTaskFromJson(std::string_view text) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const boost::json::object& o = v.get_object();
  Task t;
  using json_read::GetInt;
  using json_read::GetString;
  bool ok = GetString(o, "id", t.id) && GetString(o, "command", t.command) &&
            GetString(o, "payload", t.payload) && GetInt(o, "priority", t.priority) &&
            GetString(o, "webhook", t.webhook) && GetString(o, "status", t.status) &&
            GetString(o, "workerId", t.worker_id) && GetString(o, "leaseUntil", t.lease_until) &&
            GetInt(o, "attempts", t.attempts) && GetInt(o, "maxAttempts", t.max_attempts) &&
            GetString(o, "error", t.error) && GetString(o, "resultKey", t.result_key) &&
            GetString(o, "tenantId", t.tenant_id) && GetString(o, "createdAt", t.created_at) &&
            GetString(o, "updatedAt", t.updated_at);
  if (!ok || t.id.empty()) return std::nullopt;
  return t;
}

TEST(TaskCodec, StreamingReadMatchesObjectRead) {
  const std::vector<std::string> docs = {
      R"({"id":"a","command":"C","payload":"{\"x\":1}","priority":3,"attempts":2,"maxAttempts":5})",
      R"({"id":"a","id":"b"})",
      R"({"id":"a","id":null})",
      R"({"id":"a","id":5})",
      R"({"id":5,"id":"a"})",
      R"({"id":"a","priority":"3"})",
      R"({"id":"a","priority":3.0,"attempts":-2.0,"maxAttempts":1e300})",
      R"({"id":"a","priority":2.5})",
      R"({"id":"a","priority":99999999999,"attempts":-99999999999,"maxAttempts":18446744073709551615})",
      R"({"id":"a","priority":true})",
      R"({"id":"a","priority":null,"status":null})",
      R"({"id":"a","status":{"x":"y"}})",
      R"({"id":"a","status":["PENDING"]})",
      R"({"id":"a","unknown":{"id":"b","nested":[1,{"status":2}]},"other":[true,null]})",
      R"({"id":"a","status":"x","status":{"a":1}})",
      R"({"id":"a","status":{"a":1},"status":"x"})",
      R"({"id":"a","workerId":"w\u00e9\n\"q\"","error":""})",
      R"({"id":""})",
      R"({})",
      R"([{"id":"a"}])",
      R"("id")",
      R"(17)",
      R"({"id":"a"} )",
      R"({"id":"a"}x)",
      R"({"id":"a"}{"id":"b"})",
      R"({"id":"a",})",
      R"({"id":"a")",
      "",
      "  ",
      R"({"id":"a","payload":")" + std::string(5000, 'p') + R"("})",
      // strings and keys the parser hands over in several parts (escapes, > 4 KiB)
      R"({"id":"a","payload":")" + std::string(3000, 'p') + R"(\"q\")" + std::string(3000, 'r') + R"("})",
      R"({"i\u0064":"a","st\u0061tus":"x"})",
      R"({"id":"a","payload":"\"x\"","payload":"y"})",
      R"({"id":"a","payload":"y","payload":"\"x\""})",
      R"({"id":"a","":"empty key","":5})",
      R"({"id":"a","priority":-0,"attempts":1e400})",
      R"({"id":"a","priority":-0.0,"attempts":0.5e1})",
      R"({"id":"a","x":)" + std::string(40, '[') + std::string(40, ']') + "}",
      R"({"id":"a","x":)" + std::string(30, '[') + std::string(30, ']') + "}",
      "{\"id\":\"a\xff\"}",
      "{\"id\":\"a\",\"status\":\"\xc3\xa9\"}",
  };
  for (const std::string& doc : docs) {
    auto want = ReferenceTaskFromJson(doc);
    auto got = TaskFromJsonText(doc);
    ASSERT_EQ(got.ok(), want.has_value()) << doc;
    if (!want) continue;
    EXPECT_EQ(TaskToJsonText(*got), TaskToJsonText(*want)) << doc;
  }
  // Every record the encoder writes reads back as itself.
  std::mt19937 rng(11);
  for (int i = 0; i < 200; ++i) {
    Task t;
    auto text = [&](size_t max) {
      std::string s(rng() % max, '\0');
      for (char& c : s) c = static_cast<char>(0x20 + rng() % 0x5f);
      return s;
    };
    t.id = "id-" + text(40);
    t.command = text(20);
    t.payload = text(300);
    t.priority = static_cast<int>(rng() % 10);
    t.status = text(12);
    t.worker_id = text(20);
    t.attempts = static_cast<int>(rng() % 1000) - 500;
    t.max_attempts = static_cast<int>(rng());
    t.tenant_id = text(10);
    t.created_at = text(30);
    const std::string encoded = TaskToJsonText(t);
    auto back = TaskFromJsonText(encoded);
    ASSERT_TRUE(back.ok()) << encoded;
    EXPECT_EQ(TaskToJsonText(*back), encoded);
  }
}

}  // namespace
}  // namespace codeq
