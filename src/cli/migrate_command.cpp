// `codeq migrate ...` (SPEC.md §11, D21): plan, run, verify, rollback, inprog-to-set, drain-status.
// Flag parsing and printing only; the work is done by src/migrate/.
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/settings.h"
#include "migrate/migrate.h"

namespace codeq::cli {
namespace {

namespace mg = codeq::migrate;

// Values of the flags every migrate subcommand shares.
struct CommonFlags {
  std::string redis;
  std::string redis_password;
  std::string from_prefix = "legacy";
  std::string to_prefix = "codeq";
  std::string tenant;
  std::vector<std::string> commands;
  std::vector<std::string> renames;
  int batch_size = 1000;
  int timeout_ms = 60000;
  bool json = false;
  bool no_progress = false;
};

struct RunFlags {
  std::string mode = "copy";
  std::string backup = "keys";
  bool i_have_a_backup = false;
  bool merge = false;
  bool dry_run = false;
  bool force = false;
  int backup_max_age = 3600;
  int freeze_check_ms = 2000;
  int throttle_ms = 0;
  bool verify = false;
};

struct VerifyFlags {
  std::string server;
  std::string admin_token, producer_token, worker_token;
  bool canary = false;
  std::string canary_command = "codeq-migrate-canary";
  bool strict_leases = false;
};

struct AllFlags {
  CommonFlags common;
  RunFlags run;
  VerifyFlags verify;
  bool keep_destination = false;
};

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

void AddCommon(CLI::App* cmd, CommonFlags& f, bool source, bool rename) {
  cmd->add_option("--redis,--redis-addr", f.redis,
                  "Redis/KVRocks: redis://[:password@]host:port[/db] or host:port (default: REDIS_ADDR, "
                  "REDIS_PASSWORD, else 127.0.0.1:6379)");
  cmd->add_option("--redis-password", f.redis_password, "password (overrides the URL's and REDIS_PASSWORD)");
  if (source) cmd->add_option("--from-prefix", f.from_prefix, "legacy key prefix (default legacy)");
  cmd->add_option("--to-prefix", f.to_prefix, "codeQ key prefix (default codeq)");
  cmd->add_option("--tenant", f.tenant,
                  "place queues in codeq:q:<cmd>:<tenant>:... and set tenantId in each migrated task (default: "
                  "unscoped)");
  AddListOption(cmd, "--commands", f.commands, "only these legacy commands (comma-separated; default all)");
  if (rename) {
    cmd->add_option("--rename-command", f.renames,
                    "OLD=NEW: migrate legacy command OLD as NEW (required for commands SPEC D15 rejects, e.g. with "
                    "':' or non-ASCII characters); repeatable");
  }
  cmd->add_option("--batch-size", f.batch_size, "items per pipelined batch (default 1000)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--timeout-ms", f.timeout_ms, "Redis command timeout in ms (default 60000)")
      ->check(CLI::Range(100, 3600000));
  cmd->add_flag("--json", f.json, "print the report as JSON on stdout");
  cmd->add_flag("--no-progress", f.no_progress, "no progress output on stderr");
}

void AddVerifyFlags(CLI::App* cmd, VerifyFlags& v) {
  cmd->add_option("--server,--base-url", v.server,
                  "base URL of the running codeQ server (http://host:port) for the API checks");
  cmd->add_option("--admin-token", v.admin_token, "admin token for GET /v1/codeq/admin/queues (env CODEQ_ADMIN_TOKEN)");
  cmd->add_option("--producer-token", v.producer_token, "producer token for the canary (env CODEQ_PRODUCER_TOKEN)");
  cmd->add_option("--worker-token", v.worker_token, "worker token for the canary (env CODEQ_WORKER_TOKEN)");
  cmd->add_flag("--canary", v.canary,
                "create a canary task, claim it, nack it, claim it again, complete it, then remove it (needs --server)");
  cmd->add_option("--canary-command,--smoke-command", v.canary_command,
                  "command name of the canary task (default codeq-migrate-canary)");
  cmd->add_flag("--strict-leases", v.strict_leases, "fail (not just warn) when an in-progress ID has no lease");
}

// Flags -> library options. Usage errors are printed; nullopt then.
std::optional<mg::Options> ToOptions(const AllFlags& f) {
  const CommonFlags& c = f.common;
  mg::Options o;
  o.layout.from = c.from_prefix;
  o.layout.to = c.to_prefix;
  o.layout.tenant = c.tenant;
  if (o.layout.from.empty() || o.layout.to.empty() || o.layout.from == o.layout.to ||
      o.layout.to.rfind(o.layout.from + ":", 0) == 0 || o.layout.from.rfind(o.layout.to + ":", 0) == 0) {
    std::cerr << "[ERROR] --from-prefix and --to-prefix must be non-empty and must not contain each other\n";
    return std::nullopt;
  }
  if (!c.tenant.empty() && !mg::ValidTenant(c.tenant)) {
    std::cerr << "[ERROR] --tenant must match [A-Za-z0-9._-]{1,64}\n";
    return std::nullopt;
  }
  for (const auto& r : c.renames) {
    auto eq = r.rfind('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == r.size()) {
      std::cerr << "[ERROR] --rename-command expects OLD=NEW, got '" << r << "'\n";
      return std::nullopt;
    }
    std::string to = r.substr(eq + 1);
    if (!mg::ValidCommand(to)) {
      std::cerr << "[ERROR] --rename-command " << r << ": NEW " << mg::CommandProblem(to)
                << " (commands must match [A-Za-z0-9._-]{1,128})\n";
      return std::nullopt;
    }
    o.layout.renames[r.substr(0, eq)] = to;
  }
  for (const auto& cmd : c.commands) {
    if (!cmd.empty()) o.selection.commands.insert(mg::Lower(cmd));
  }
  o.batch_size = c.batch_size;
  const RunFlags& r = f.run;
  o.dry_run = r.dry_run;
  o.force = r.force;
  o.merge = r.merge;
  o.mode = r.mode == "move" ? mg::Mode::kMove : mg::Mode::kCopy;
  o.backup = r.backup == "external" ? mg::BackupMode::kExternal : mg::BackupMode::kKeys;
  o.i_have_a_backup = r.i_have_a_backup;
  o.backup_max_age_seconds = r.backup_max_age;
  o.freeze_check_ms = r.freeze_check_ms;
  o.throttle_ms = r.throttle_ms;
  o.verify_after = r.verify;
  return o;
}

mg::VerifyOptions ToVerifyOptions(const VerifyFlags& v) {
  mg::VerifyOptions out;
  out.server = v.server;
  out.admin_token = v.admin_token.empty() ? Env("CODEQ_ADMIN_TOKEN") : v.admin_token;
  out.producer_token = v.producer_token.empty() ? Env("CODEQ_PRODUCER_TOKEN") : v.producer_token;
  out.worker_token = v.worker_token.empty() ? Env("CODEQ_WORKER_TOKEN") : v.worker_token;
  out.canary = v.canary;
  out.canary_command = v.canary_command;
  out.strict_leases = v.strict_leases;
  return out;
}

// The client of --redis, connected; nullptr after printing the error, with *exit_code 2 for an
// unusable URL (a usage error) and 1 when the server cannot be reached.
std::unique_ptr<mg::RedisClient> Connect(const CommonFlags& c, int* exit_code) {
  auto url = mg::ResolveRedisEndpoint(c.redis, c.redis_password);
  if (!url.ok()) {
    std::cerr << "[ERROR] " << url.status().message() << "\n";
    *exit_code = url.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
    return nullptr;
  }
  auto client = std::make_unique<mg::RedisClient>(*url, c.timeout_ms);
  if (auto s = client->Connect(); !s.ok()) {
    std::cerr << "[ERROR] " << s.message() << "\n";
    *exit_code = 1;
    return nullptr;
  }
  return client;
}

mg::Progress::Style ProgressStyle(const CommonFlags& c) {
  return c.no_progress ? mg::Progress::Style::kNone : mg::Progress::AutoStyle(STDERR_FILENO);
}

// Prints an error (and, in JSON mode, {"error": ...} on stdout); usage errors exit 2.
int Fail(const CommonFlags& c, const Status& s) {
  std::cerr << "[ERROR] " << s.message() << "\n";
  if (c.json) std::cout << boost::json::serialize(boost::json::object{{"error", s.message()}}) << "\n";
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

void PrintJson(const boost::json::object& o) { std::cout << boost::json::serialize(o) << "\n"; }

int RunPlan(AllFlags& f) {
  auto o = ToOptions(f);
  if (!o) return 2;
  int connect_rc = 1;
  auto c = Connect(f.common, &connect_rc);
  if (!c) return connect_rc;
  mg::Progress progress(ProgressStyle(f.common), std::cerr);
  auto p = mg::BuildPlan(*c, *o, &progress);
  if (!p.ok()) return Fail(f.common, p.status());
  if (f.common.json) PrintJson(mg::PlanJson(*p, *o));
  else std::cout << mg::PlanText(*p, *o);
  return 0;
}

int RunVerifyWith(mg::RedisClient& c, const mg::Options& o, AllFlags& f, mg::Progress& progress) {
  auto v = ToVerifyOptions(f.verify);
  auto r = mg::Verify(c, o, v, &progress);
  if (!r.ok()) return Fail(f.common, r.status());
  if (f.common.json) PrintJson(mg::VerifyJson(*r));
  else std::cout << mg::VerifyText(*r);
  return r->ok() ? 0 : 1;
}

int RunRun(AllFlags& f) {
  auto o = ToOptions(f);
  if (!o) return 2;
  int connect_rc = 1;
  auto c = Connect(f.common, &connect_rc);
  if (!c) return connect_rc;
  mg::Progress progress(ProgressStyle(f.common), std::cerr);
  auto r = mg::RunMigration(*c, *o, progress, std::cerr);
  progress.End();
  if (!r.ok()) return Fail(f.common, r.status());
  if (f.common.json) {
    auto j = mg::RunJson(*r, *o);
    if (!o->verify_after || r->dry_run) {
      PrintJson(j);
      return 0;
    }
    auto v = mg::Verify(*c, *o, ToVerifyOptions(f.verify), &progress);
    if (!v.ok()) return Fail(f.common, v.status());
    j["verify"] = mg::VerifyJson(*v);
    PrintJson(j);
    return v->ok() ? 0 : 1;
  }
  std::cout << mg::RunText(*r, *o);
  if (o->verify_after && !r->dry_run) {
    std::cout << "\n";
    return RunVerifyWith(*c, *o, f, progress);
  }
  return 0;
}

int RunVerify(AllFlags& f) {
  auto o = ToOptions(f);
  if (!o) return 2;
  int connect_rc = 1;
  auto c = Connect(f.common, &connect_rc);
  if (!c) return connect_rc;
  mg::Progress progress(ProgressStyle(f.common), std::cerr);
  return RunVerifyWith(*c, *o, f, progress);
}

int RunRollback(AllFlags& f) {
  auto o = ToOptions(f);
  if (!o) return 2;
  int connect_rc = 1;
  auto c = Connect(f.common, &connect_rc);
  if (!c) return connect_rc;
  if (!o->dry_run) {
    std::cerr << "WARNING: rollback requires the clients to be frozen (no codeQ producer or worker running).\n";
  }
  mg::Progress progress(ProgressStyle(f.common), std::cerr);
  mg::RollbackOptions ro;
  ro.keep_destination = f.keep_destination;
  auto r = mg::Rollback(*c, *o, ro, &progress);
  if (!r.ok()) return Fail(f.common, r.status());
  if (f.common.json) PrintJson(mg::RollbackJson(*r));
  else std::cout << mg::RollbackText(*r, *o);
  return 0;
}

int RunInprog(AllFlags& f) {
  auto o = ToOptions(f);
  if (!o) return 2;
  int connect_rc = 1;
  auto c = Connect(f.common, &connect_rc);
  if (!c) return connect_rc;
  mg::Progress progress(ProgressStyle(f.common), std::cerr);
  auto r = mg::ConvertInprog(*c, *o, &progress);
  if (!r.ok()) return Fail(f.common, r.status());
  if (f.common.json) PrintJson(mg::InprogJson(*r));
  else std::cout << mg::InprogText(*r, *o);
  for (const auto& k : r->keys) {
    if (k.result == "changed") return 1;
  }
  return 0;
}

int RunDrain(AllFlags& f) {
  auto o = ToOptions(f);
  if (!o) return 2;
  int connect_rc = 1;
  auto c = Connect(f.common, &connect_rc);
  if (!c) return connect_rc;
  auto r = mg::DrainStatus(*c, *o);
  if (!r.ok()) return Fail(f.common, r.status());
  if (f.common.json) PrintJson(mg::DrainJson(*r));
  else std::cout << mg::DrainText(*r, *o);
  return r->drained() ? 0 : 3;
}

}  // namespace

void RegisterMigrateCommands(CLI::App& app, CommandRegistry& registry) {
  // The flag storage lives as long as the process (the parsed values are read by the runners).
  static AllFlags flags;
  auto* migrate = app.add_subcommand(
      "migrate",
      "Move a legacy scheduler keyspace (legacy:*) into codeQ (codeq:*) and convert v1.0 in-progress lists to sets");
  migrate->footer(mg::kOperatorSequence());
  registry.Add(migrate, [migrate] {
    std::cout << migrate->help();
    return 2;
  });

  auto* plan = migrate->add_subcommand(
      "plan", "Read-only: what would be migrated, destination conflicts, tasks missing from the hash, estimated time");
  AddCommon(plan, flags.common, true, true);
  plan->add_flag("--merge", flags.run.merge, "evaluate conflicts as `run --merge` would");
  plan->add_flag("--force", flags.run.force, "evaluate as `run --force` would");
  registry.Add(plan, [] { return RunPlan(flags); });

  auto* run = migrate->add_subcommand("run", "Copy (default) or move the legacy keyspace into codeQ");
  AddCommon(run, flags.common, true, true);
  run->add_option("--mode", flags.run.mode,
                  "copy (default): keep the legacy keys for rollback; move: remove them after a verified copy "
                  "(requires --i-have-a-backup)")
      ->check(CLI::IsMember({"copy", "move"}));
  run->add_flag("--i-have-a-backup", flags.run.i_have_a_backup, "confirm a backup exists (required by --mode move)");
  run->add_option("--backup", flags.run.backup,
                  "mode move: keys (default) renames each removed legacy key under <to>:migrate:backup: so rollback "
                  "can restore it; external checks that the server saved a snapshot within --backup-max-age and "
                  "really deletes")
      ->check(CLI::IsMember({"keys", "external"}));
  run->add_option("--backup-max-age", flags.run.backup_max_age, "seconds (default 3600) for --backup external");
  run->add_flag("--merge", flags.run.merge,
                "merge into existing destination data instead of refusing: existing task records, retention entries "
                "and leases win; legacy pending IDs are served after the existing ones; in-progress sets are unioned");
  run->add_flag("--dry-run", flags.run.dry_run, "print the planned operations and counts only");
  run->add_flag("--force", flags.run.force,
                "continue although writes to the legacy keyspace were detected; skip unreadable task records and "
                "legacy keys of unexpected types");
  run->add_option("--freeze-check-ms", flags.run.freeze_check_ms,
                  "interval between the two snapshots that detect a missing write freeze (default 2000)")
      ->check(CLI::Range(0, 600000));
  run->add_option("--throttle-ms", flags.run.throttle_ms, "pause after each written batch (default 0)")
      ->check(CLI::Range(0, 60000));
  run->add_flag("--verify", flags.run.verify, "run the `verify` checklist after the migration");
  AddVerifyFlags(run, flags.verify);
  run->footer(mg::kOperatorSequence());
  registry.Add(run, [] { return RunRun(flags); });

  auto* verify = migrate->add_subcommand(
      "verify",
      "Checklist: task records parse, pending/in-progress counts match, in-progress IDs have leases, server queue "
      "counts (--server), canary round trip (--canary). Exit 0 only when every check holds");
  AddCommon(verify, flags.common, true, true);
  AddVerifyFlags(verify, flags.verify);
  verify->footer(
      "Run it right after starting codeQ (and again after unfreezing): queue counts only match the migrated counts "
      "until clients start working on the queues.");
  registry.Add(verify, [] { return RunVerify(flags); });

  auto* rollback = migrate->add_subcommand(
      "rollback",
      "Return to the legacy scheduler: restore legacy keys kept by --backup keys and remove the migrated IDs from "
      "the codeQ keyspace");
  AddCommon(rollback, flags.common, true, true);
  rollback->add_flag("--keep-destination", flags.keep_destination,
                     "only restore the legacy keys; leave the migrated data in the codeQ keyspace");
  rollback->add_flag("--dry-run", flags.run.dry_run, "print what would be done");
  rollback->add_flag("--force", flags.run.force,
                     "roll back without a run record, or replace legacy keys that exist again by their backups");
  rollback->footer(
      "Rollback sequence: freeze the clients, run this, repoint the clients to /v1/scheduler, start the legacy "
      "scheduler, unfreeze. After `run --mode move --backup external`, restore the legacy keys from your backup "
      "first.");
  registry.Add(rollback, [] { return RunRollback(flags); });

  auto* inprog = migrate->add_subcommand(
      "inprog-to-set",
      "v1.1 upgrade: convert list-typed <to>:q:*:inprog keys into sets (same IDs; temp key + atomic RENAME). "
      "Clients must be frozen; the alternative is draining in-progress work first");
  inprog->alias("convert-inprog");
  AddCommon(inprog, flags.common, false, false);
  inprog->add_flag("--dry-run", flags.run.dry_run, "report what would be converted");
  registry.Add(inprog, [] { return RunInprog(flags); });

  auto* drain = migrate->add_subcommand(
      "drain-status",
      "Per-command pending and in-progress counts of the legacy keyspace (and v1.0 in-progress lists); exits 3 "
      "while work remains, 0 when drained");
  drain->alias("check");
  AddCommon(drain, flags.common, true, false);
  registry.Add(drain, [] { return RunDrain(flags); });
}

}  // namespace codeq::cli
