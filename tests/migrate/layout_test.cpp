// Key mapping, validation and record rewrite of `codeq migrate` (no Redis needed).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "domain/keys.h"
#include "migrate/internal.h"
#include "migrate/layout.h"

namespace codeq::migrate {
namespace {

TEST(MigrateLayout, ClassifiesLegacyKeys) {
  Layout L;
  EXPECT_EQ(L.Classify("legacy:tasks").kind, SourceKind::kTasks);
  EXPECT_EQ(L.Classify("legacy:tasks:ttl").kind, SourceKind::kTtl);
  auto lease = L.Classify("legacy:lease:abc-1");
  EXPECT_EQ(lease.kind, SourceKind::kLease);
  EXPECT_EQ(lease.lease_id, "abc-1");
  auto p = L.Classify("legacy:q:GENERATE_MASTER:pending");
  EXPECT_EQ(p.kind, SourceKind::kPending);
  EXPECT_EQ(p.command, "GENERATE_MASTER");
  auto colon = L.Classify("legacy:q:img:resize:inprog");  // a command with ':' (needs a rename)
  EXPECT_EQ(colon.kind, SourceKind::kInprog);
  EXPECT_EQ(colon.command, "img:resize");
  EXPECT_EQ(L.Classify("legacy:q::pending").kind, SourceKind::kUnknown);
  EXPECT_EQ(L.Classify("legacy:q:x:delayed").kind, SourceKind::kUnknown);
  EXPECT_EQ(L.Classify("legacy:lease:").kind, SourceKind::kUnknown);
  EXPECT_EQ(L.Classify("other:tasks").kind, SourceKind::kUnknown);
}

TEST(MigrateLayout, DestinationKeysMatchTheServerKeyspace) {
  Layout L;
  EXPECT_EQ(L.DstTasks(), keys::kTasks);
  EXPECT_EQ(L.DstTtl(), keys::kTasksTtl);
  EXPECT_EQ(L.DstResults(), keys::kResults);
  EXPECT_EQ(L.DstCommands(), keys::kCommands);
  EXPECT_EQ(L.DstLease("id-1"), keys::Lease("id-1"));
  EXPECT_EQ(L.DstPending("Render", 0), keys::Pending("Render", "", 0));
  EXPECT_EQ(L.DstInprog("Render"), keys::InProgress("Render", ""));
  EXPECT_EQ(L.DstDelayed("Render"), keys::Delayed("Render", ""));
  EXPECT_EQ(L.DstDlq("Render"), keys::Dlq("Render", ""));
  EXPECT_EQ(L.CommandsMember("Render"), keys::CommandsMember("", "Render"));
  L.tenant = "acme";
  EXPECT_EQ(L.DstPending("Render", 0), keys::Pending("Render", "acme", 0));
  EXPECT_EQ(L.DstInprog("Render"), keys::InProgress("Render", "acme"));
  EXPECT_EQ(L.CommandsMember("Render"), keys::CommandsMember("acme", "Render"));
  EXPECT_EQ(L.DstPending("Render", 0), "codeq:q:render:acme:pending:0");
}

TEST(MigrateLayout, CommandValidationAndRenames) {
  EXPECT_TRUE(ValidCommand("GENERATE_MASTER"));
  EXPECT_TRUE(ValidCommand("mail.send-v2"));
  EXPECT_FALSE(ValidCommand("img:resize"));
  EXPECT_FALSE(ValidCommand(""));
  EXPECT_FALSE(ValidCommand(std::string(129, 'a')));
  EXPECT_EQ(CommandProblem("img:resize"), "contains ':'");
  EXPECT_EQ(CommandProblem("caf\xc3\xa9"), "contains non-ASCII characters");
  EXPECT_EQ(CommandProblem("a b"), "contains ' '");
  EXPECT_EQ(CommandProblem("ok"), "");
  EXPECT_TRUE(ValidTenant("acme-1"));
  EXPECT_FALSE(ValidTenant("a:b"));

  Layout L;
  L.renames["img:resize"] = "img-resize";
  EXPECT_EQ(L.DstCommand("IMG:Resize"), "img-resize");  // case-insensitive match
  EXPECT_EQ(L.DstCommand("other"), "other");
  EXPECT_EQ(GlobEscape("a*b?[c]\\"), "a\\*b\\?\\[c\\]\\\\");
  EXPECT_EQ(Layout{}.SrcPattern(), "legacy:*");
}

TEST(MigrateLayout, RewriteKeepsRecordsThatNeedNoChange) {
  Layout L;
  std::string text = R"({"id":"t1","command":"Render","payload":"{}","status":"PENDING","extra":{"k":1}})";
  auto t = RewriteTask(L, "t1", text);
  EXPECT_TRUE(t.parsed);
  EXPECT_FALSE(t.changed);
  EXPECT_EQ(t.text, text);  // byte for byte
  EXPECT_EQ(t.command, "Render");
  EXPECT_EQ(t.status, "PENDING");
}

TEST(MigrateLayout, RewriteSetsTenantRenamesAndFillsId) {
  Layout L;
  L.tenant = "acme";
  L.renames["img:resize"] = "img-resize";
  auto t = RewriteTask(L, "t1", R"({"command":"img:resize","payload":"{}","status":"PENDING","custom":7})");
  ASSERT_TRUE(t.parsed);
  EXPECT_TRUE(t.changed && t.renamed && t.tenant_changed && t.id_added);
  auto v = boost::json::parse(t.text).as_object();
  EXPECT_EQ(v.at("command").as_string(), "img-resize");
  EXPECT_EQ(v.at("tenantId").as_string(), "acme");
  EXPECT_EQ(v.at("id").as_string(), "t1");
  EXPECT_EQ(v.at("custom").as_int64(), 7);  // unknown members survive
  EXPECT_EQ(t.dst_command, "img-resize");

  Layout unscoped;
  auto u = RewriteTask(unscoped, "t2", R"({"id":"t2","command":"x","status":"PENDING","tenantId":"old"})");
  EXPECT_TRUE(u.tenant_changed);
  EXPECT_FALSE(boost::json::parse(u.text).as_object().contains("tenantId"));

  auto bad = RewriteTask(L, "t3", "not json");
  EXPECT_FALSE(bad.parsed);
  EXPECT_EQ(bad.text, "not json");
  EXPECT_FALSE(RewriteTask(L, "t4", R"({"id":"t4"})").parsed);  // no command
  // The hash field is the id the queues use: a record saying otherwise gets it (workers were handed
  // an id no endpoint knew).
  auto other = RewriteTask(L, "t5", R"({"id":"other","command":"x"})");
  EXPECT_TRUE(other.id_mismatch);
  EXPECT_TRUE(other.changed);
  EXPECT_EQ(boost::json::parse(other.text).at("id"), "t5");
  EXPECT_EQ(boost::json::parse(RewriteTask(L, "t6", R"({"id":6,"command":"x"})").text).at("id"), "t6");
}

TEST(MigrateLayout, FingerprintDiffToleratesExpiryButNotWrites) {
  Fingerprint a, b;
  a.at_ms = 1000;
  b.at_ms = 3000;
  a.keys["legacy:q:x:pending"] = "list:3:a:c";
  b.keys["legacy:q:x:pending"] = "list:3:a:c";
  a.leases["t1"] = {"w", 2000};   // expired by the second snapshot: fine
  a.leases["t2"] = {"w", 90000};  // still running: must be there
  b.leases["t2"] = {"w", 90000};
  EXPECT_TRUE(FingerprintDiff(a, b, 1000).empty());

  Fingerprint c = b;
  c.leases["t2"].deadline_ms = 150000;  // a heartbeat extended it
  EXPECT_EQ(FingerprintDiff(a, c, 1000).size(), 1u);
  Fingerprint d = b;
  d.leases.erase("t2");  // acked before it expired
  EXPECT_EQ(FingerprintDiff(a, d, 1000).size(), 1u);
  Fingerprint e = b;
  e.keys["legacy:q:x:pending"] = "list:3:b:c";  // push + pop keeps the length
  EXPECT_EQ(FingerprintDiff(a, e, 1000).size(), 1u);
  Fingerprint f = b;
  f.keys["legacy:q:y:pending"] = "list:1:z:z";  // a new queue
  EXPECT_EQ(FingerprintDiff(a, f, 1000).size(), 1u);
}

}  // namespace
}  // namespace codeq::migrate
