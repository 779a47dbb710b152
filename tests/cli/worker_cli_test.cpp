// `codeq worker start` end to end: handler protocol, concurrency, heartbeats, failures, shutdown.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "cli/cli_fixture.h"

namespace codeq::clitest {
namespace {

using WorkerCli = CliTest;
using namespace std::chrono_literals;

constexpr const char* kOkHandler =
    "#!/bin/sh\n"
    "cat >/dev/null\n"
    "echo '{\"status\":\"COMPLETED\",\"result\":{\"ok\":true}}'\n";

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

json::value WaitForStatus(CliTest* t, const std::function<json::value(const std::string&)>& get, const std::string& id,
                          const std::string& status, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  json::value task;
  while (std::chrono::steady_clock::now() < deadline) {
    task = get(id);
    if (Str(task, "status") == status) break;
    std::this_thread::sleep_for(50ms);
  }
  return task;
}

TEST_F(WorkerCli, HundredTasksConcurrencyFourEachCompletedOnce) {
  std::string cmd = Cmd();
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(CreateTask(cmd, R"({"i":)" + std::to_string(i) + "}"));
  // The handler records every delivery (with the payload it saw) and completes the task.
  WriteScript("record.sh",
              "#!/bin/sh\n"
              "task=$(cat)\n"
              "case \"$task\" in *\"$CODEQ_TASK_ID\"*) ;; *) echo 'task JSON missing the id' >&2; exit 9;; esac\n"
              "echo \"$CODEQ_TASK_ID $CODEQ_COMMAND $CODEQ_PAYLOAD\" >> deliveries.txt\n"
              "echo '{\"status\":\"COMPLETED\",\"result\":{\"handled\":true}}'\n");
  auto worker = StartCodeq({"worker", "start", "--events", cmd, "--concurrency", "4", "--handler", "./record.sh",
                            "--poll", "1"});
  ASSERT_TRUE(worker);

  auto deadline = std::chrono::steady_clock::now() + 90s;
  size_t completed = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    auto stats = Http("GET", "/v1/codeq/admin/queues/" + cmd, server().admin_token()).Json();
    if (stats.is_object() && stats.at("ready").as_int64() == 0 && stats.at("inProgress").as_int64() == 0) {
      completed = 0;
      for (const auto& id : ids) completed += Str(GetTask(id), "status") == "COMPLETED";
      if (completed == ids.size()) break;
    }
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(completed, ids.size()) << worker->Err();
  ASSERT_TRUE(worker->Signal(SIGTERM));
  EXPECT_EQ(worker->Wait(30s), 0) << worker->Err();

  auto deliveries = Lines(dir() + "/deliveries.txt");
  std::map<std::string, int> count;
  for (const auto& line : deliveries) {
    std::istringstream in(line);
    std::string id, command;
    in >> id >> command;
    EXPECT_EQ(command, cmd);
    count[id]++;
  }
  EXPECT_EQ(deliveries.size(), 100u);
  EXPECT_EQ(count.size(), 100u);
  for (const auto& id : ids) EXPECT_EQ(count[id], 1) << id;
  for (const auto& id : ids) {
    json::value t = GetTask(id);
    EXPECT_EQ(t.at("attempts").as_int64(), 1) << id;
  }
  // One "done" event per task on stdout (JSON lines, since stdout is a file).
  int done = 0;
  for (const auto& ev : JsonLines(worker->Out())) done += Str(ev, "event") == "done" && Str(ev, "outcome") == "COMPLETED";
  EXPECT_EQ(done, 100) << worker->Out();
}

TEST_F(WorkerCli, HandlerFailuresFailTheTaskWithAClearError) {
  struct Case {
    std::string handler;
    std::string error;  // expected task error (prefix)
  };
  std::vector<Case> cases = {
      {"echo 'cannot open input' >&2; exit 3", "handler exited with code 3: cannot open input"},
      {"cat >/dev/null; echo this is not json", "handler output invalid: stdout is not one JSON object"},
      {"cat >/dev/null", "handler output invalid: no output"},
      {"echo '[1,2]'", "handler output invalid: stdout must be a JSON object"},
      {"echo '{\"status\":\"DONE\"}'", "handler output invalid: unknown status \"DONE\""},
      {"echo '{\"status\":\"COMPLETED\",\"result\":\"text\"}'", "handler output invalid: \"result\" must be a JSON object"},
      {"kill -SEGV $$", "handler killed by signal 11 (SIGSEGV)"},
      // A tool missing inside the handler script fails the task; only the shell's own 127 stops.
      {"./inner-missing.sh", "handler exited with code 127: ./inner-missing.sh: 3: no-such-tool-xyz: not found"},
      {"echo '{\"status\":\"FAILED\",\"error\":\"bad input\"}'", "bad input"},
      {"echo '{\"status\":\"FAILED\"}'", "handler reported FAILED"},
  };
  WriteScript("inner-missing.sh", "#!/bin/sh\ncat >/dev/null\nno-such-tool-xyz\n");
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string cmd = Cmd(std::to_string(i));
    std::string id = CreateTask(cmd);
    auto r = Codeq({"worker", "start", "--events", cmd, "--once", "--handler", cases[i].handler});
    EXPECT_EQ(r.exit_code, 0) << cases[i].handler << "\n" << r.Describe();
    json::value t = GetTask(id);
    EXPECT_EQ(Str(t, "status"), "FAILED") << cases[i].handler;
    EXPECT_EQ(Str(t, "error").rfind(cases[i].error, 0), 0u) << cases[i].handler << " → " << Str(t, "error");
    auto res = Http("GET", "/v1/codeq/tasks/" + id + "/result", server().producer_token()).Json();
    EXPECT_EQ(Str(res.at("result"), "status"), "FAILED");
    auto events = JsonLines(r.out);
    ASSERT_FALSE(events.empty()) << r.Describe();
    EXPECT_EQ(Str(events.back(), "outcome"), "FAILED");
    EXPECT_EQ(Str(events.back(), "error"), Str(t, "error"));
  }
}

// A --handler that cannot run at all (a typo: the shell's 127; not executable: 126) must not fail
// the queue's tasks one after the other: the task goes back and the worker stops with the reason.
TEST_F(WorkerCli, HandlerThatCannotRunHandsTheTaskBackAndStopsTheWorker) {
  WriteScript("not-executable.sh", "#!/bin/sh\necho '{\"status\":\"COMPLETED\"}'\n");
  std::filesystem::permissions(dir() + "/not-executable.sh", std::filesystem::perms::owner_read |
                                                                std::filesystem::perms::owner_write);
  struct Case {
    std::string handler, error;
  };
  const std::vector<Case> cases = {{"./does-not-exist.sh", "handler could not run (exit 127: command not found)"},
                                   {"./not-executable.sh", "handler could not run (exit 126: command not executable)"}};
  for (size_t i = 0; i < cases.size(); ++i) {
    std::string cmd = Cmd(std::to_string(i));
    std::string first = CreateTask(cmd);
    std::string second = CreateTask(cmd);
    auto r = Codeq({"worker", "start", "--events", cmd, "--concurrency", "1", "--handler", cases[i].handler});
    EXPECT_EQ(r.exit_code, 1) << r.Describe();
    EXPECT_NE(r.err.find("[ERROR] " + cases[i].error), std::string::npos) << r.Describe();
    EXPECT_NE(r.err.find("stopping the worker (check --handler)"), std::string::npos) << r.Describe();
    for (const auto& id : {first, second}) {
      json::value t = GetTask(id);
      EXPECT_EQ(Str(t, "status"), "PENDING") << cases[i].handler << ": " << json::serialize(t);
    }
  }
}

TEST_F(WorkerCli, HandlerSeesTaskOnStdinAndEnvironment) {
  std::string cmd = Cmd();
  std::string id = CreateTask(cmd, R"({"video":"a.mp4"})");
  WriteScript("echo.sh",
              "#!/bin/sh\n"
              "cat > stdin.json\n"
              "printf '%s\\n%s\\n%s\\n%s\\n' \"$CODEQ_TASK_ID\" \"$CODEQ_COMMAND\" \"$CODEQ_ATTEMPTS\" \"$CODEQ_PAYLOAD\" > env.txt\n"
              "echo '{\"status\":\"COMPLETED\",\"result\":{\"n\":1},\"artifacts\":[{\"name\":\"out.txt\",\"url\":\"s3://b/out.txt\"}]}'\n");
  auto r = Codeq({"worker", "start", "--events", cmd, "--once", "--handler", "./echo.sh"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::ifstream in(dir() + "/stdin.json");
  std::stringstream ss;
  ss << in.rdbuf();
  json::value task = ParseJson(ss.str());
  EXPECT_EQ(Str(task, "id"), id);
  EXPECT_EQ(Str(task, "status"), "IN_PROGRESS");
  EXPECT_EQ(Str(task, "payload"), R"({"video":"a.mp4"})");
  EXPECT_EQ(Lines(dir() + "/env.txt"), (std::vector<std::string>{id, cmd, "1", R"({"video":"a.mp4"})"}));
  auto res = Http("GET", "/v1/codeq/tasks/" + id + "/result", server().producer_token()).Json();
  EXPECT_EQ(res.at("result").at("result").at("n").as_int64(), 1);
  EXPECT_EQ(Str(res.at("result").at("artifacts").at(0), "url"), "s3://b/out.txt");
}

TEST_F(WorkerCli, NackAndAbandonForms) {
  std::string cmd = Cmd();
  std::string id = CreateTask(cmd);
  auto r = Codeq({"worker", "start", "--events", cmd, "--once", "--handler",
                  "echo '{\"status\":\"NACK\",\"delaySeconds\":60,\"reason\":\"busy\"}'"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  json::value t = GetTask(id);
  EXPECT_EQ(Str(t, "status"), "PENDING");
  auto stats = Http("GET", "/v1/codeq/admin/queues/" + cmd, server().admin_token()).Json();
  EXPECT_EQ(stats.at("delayed").as_int64(), 1);
  auto ev = JsonLines(r.out).back();
  EXPECT_EQ(Str(ev, "outcome"), "NACK");
  EXPECT_EQ(Str(ev.at("nack"), "status"), "requeued");
  EXPECT_EQ(ev.at("nack").at("delaySeconds").as_int64(), 60);

  std::string cmd2 = Cmd("abandon");
  std::string id2 = CreateTask(cmd2);
  r = Codeq({"worker", "start", "--events", cmd2, "--once", "--handler", "echo '{\"status\":\"ABANDON\"}'"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  t = GetTask(id2);
  EXPECT_EQ(Str(t, "status"), "PENDING");
  EXPECT_EQ(Str(JsonLines(r.out).back(), "outcome"), "ABANDONED");

  // Without a handler: the RI --ack actions.
  r = Codeq({"worker", "start", "--events", cmd2, "--once", "--ack", "complete"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Str(GetTask(id2), "status"), "COMPLETED");
}

TEST_F(WorkerCli, HeartbeatsPreventRedelivery) {
  std::string cmd = Cmd();
  std::string id = CreateTask(cmd);
  auto w = StartCodeq({"worker", "start", "--events", cmd, "--concurrency", "2", "--lease", "2", "--poll", "1",
                       "--handler", "echo $CODEQ_TASK_ID >> seen.txt; sleep 5; echo '{\"status\":\"COMPLETED\"}'"});
  ASSERT_TRUE(w);
  json::value t = WaitForStatus(
      this, [this](const std::string& i) { return GetTask(i); }, id, "COMPLETED", 20s);
  EXPECT_EQ(Str(t, "status"), "COMPLETED") << w->Err();
  std::this_thread::sleep_for(1500ms);  // a re-delivery would show up here
  ASSERT_TRUE(w->Signal(SIGTERM));
  EXPECT_EQ(w->Wait(20s), 0) << w->Err();
  EXPECT_EQ(Lines(dir() + "/seen.txt").size(), 1u) << w->Err();
  EXPECT_EQ(GetTask(id).at("attempts").as_int64(), 1);
}

TEST_F(WorkerCli, SigtermLetsTheRunningHandlerFinish) {
  std::string cmd = Cmd();
  std::string id = CreateTask(cmd);
  auto w = StartCodeq({"worker", "start", "--events", cmd, "--handler",
                       "touch started; sleep 2; echo '{\"status\":\"COMPLETED\"}'"});
  ASSERT_TRUE(w);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!std::filesystem::exists(dir() + "/started") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(std::filesystem::exists(dir() + "/started")) << w->Err();
  std::string id2 = CreateTask(cmd);  // must not be claimed after the signal
  ASSERT_TRUE(w->Signal(SIGTERM));
  EXPECT_EQ(w->Wait(20s), 0) << w->Err();
  EXPECT_EQ(Str(GetTask(id), "status"), "COMPLETED") << w->Err();
  EXPECT_EQ(Str(GetTask(id2), "status"), "PENDING") << w->Err();
  EXPECT_NE(w->Err().find("received SIGTERM"), std::string::npos) << w->Err();
}

TEST_F(WorkerCli, SigtermAbandonsAfterTheGracePeriod) {
  std::string cmd = Cmd();
  std::string id = CreateTask(cmd);
  auto w = StartCodeq({"worker", "start", "--events", cmd, "--grace", "1", "--handler",
                       "echo $$ > handler.pid; exec sleep 60"});
  ASSERT_TRUE(w);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (Lines(dir() + "/handler.pid").empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  auto pid_lines = Lines(dir() + "/handler.pid");
  ASSERT_FALSE(pid_lines.empty()) << w->Err();
  pid_t handler = std::stoi(pid_lines[0]);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(w->Signal(SIGTERM));
  EXPECT_EQ(w->Wait(20s), 0) << w->Err();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  json::value t = GetTask(id);
  EXPECT_EQ(Str(t, "status"), "PENDING") << w->Err();  // abandoned → claimable again
  EXPECT_EQ(Str(t, "workerId"), "");
  EXPECT_NE(::kill(handler, 0), 0) << "the handler process is still running";
  EXPECT_NE(w->Out().find("ABANDONED"), std::string::npos) << w->Out();
}

TEST_F(WorkerCli, SecondSignalAbandonsImmediately) {
  std::string cmd = Cmd();
  std::string id = CreateTask(cmd);
  auto w = StartCodeq({"worker", "start", "--events", cmd, "--grace", "5m", "--handler", "touch started; sleep 60"});
  ASSERT_TRUE(w);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!std::filesystem::exists(dir() + "/started") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(w->Signal(SIGINT));
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(w->Signal(SIGINT));
  EXPECT_EQ(w->Wait(15s), 0) << w->Err();
  EXPECT_EQ(Str(GetTask(id), "status"), "PENDING");
}

TEST_F(WorkerCli, IdleWorkerStopsPromptly) {
  auto w = StartCodeq({"worker", "start", "--events", Cmd(), "--poll", "30", "--handler", "true"});
  ASSERT_TRUE(w);
  std::this_thread::sleep_for(700ms);
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(w->Signal(SIGTERM));
  EXPECT_EQ(w->Wait(10s), 0) << w->Err();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);  // the waiting claim was cancelled
}

// A task that arrives while a stopping worker's long poll is still open (libcurl notices the stop
// only about once a second) is handed back, not left leased to a worker that is gone.
TEST_F(WorkerCli, TaskArrivingWhileTheWorkerStopsIsHandedBack) {
  std::string cmd = Cmd();
  auto w = StartCodeq({"worker", "start", "--events", cmd, "--poll", "20", "--ack", "complete"});
  ASSERT_TRUE(w);
  std::this_thread::sleep_for(1500ms);  // the claim is waiting
  ASSERT_TRUE(w->Signal(SIGINT));
  // libcurl looks at the stop flag about once a second: a create this soon after the signal
  // usually reaches the claim before that, so the answer arrives while the worker is stopping.
  std::this_thread::sleep_for(50ms);
  std::string id = CreateTask(cmd);
  EXPECT_EQ(w->Wait(10s), 0) << w->Err();
  json::value t = GetTask(id);
  EXPECT_EQ(Str(t, "status"), "PENDING") << "left leased to a stopped worker: " << json::serialize(t) << w->Err();
}

TEST_F(WorkerCli, HandlerTimeoutFailsTheTask) {
  std::string cmd = Cmd();
  std::string id = CreateTask(cmd);
  auto r = Codeq({"worker", "start", "--events", cmd, "--once", "--handler-timeout", "1", "--handler", "sleep 30"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  json::value t = GetTask(id);
  EXPECT_EQ(Str(t, "status"), "FAILED");
  EXPECT_EQ(Str(t, "error"), "handler timed out after 1s");
}

TEST_F(WorkerCli, RefusedWorkerExitsWithTheServerMessage) {
  // A producer token is not a worker token: the server answers 401, the worker stops with exit 1.
  auto r = Codeq({"worker", "start", "--events", Cmd(), "--handler", "true"},
                 {{"CODEQ_WORKER_TOKEN", server().producer_token()}});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("claim refused: error (401)"), std::string::npos) << r.Describe();
  // A worker token restricted to other events: 403.
  auto narrow = Codeq({"token", "mint", "--role", "worker", "--events", "OTHER", "--key", server().signing_key_path()});
  ASSERT_EQ(narrow.exit_code, 0) << narrow.Describe();
  std::string token = narrow.out.substr(0, narrow.out.size() - 1);
  r = Codeq({"worker", "start", "--events", Cmd(), "--handler", "true"}, {{"CODEQ_WORKER_TOKEN", token}});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("error (403): event type not allowed"), std::string::npos) << r.Describe();
  // --once against a dead server gives up instead of hanging.
  r = Codeq({"worker", "start", "--events", Cmd(), "--once", "--handler", "true", "--base-url", "http://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_NE(r.err.find("giving up"), std::string::npos) << r.Describe();
  // Usage errors are 2.
  EXPECT_EQ(Codeq({"worker", "start", "--handler", "true"}).exit_code, 2);
  EXPECT_EQ(Codeq({"worker", "start", "--events", "A", "--concurrency", "0"}).exit_code, 2);
  EXPECT_EQ(Codeq({"worker", "start", "--events", "A", "--lease", "soon"}).exit_code, 2);
}

}  // namespace
}  // namespace codeq::clitest
