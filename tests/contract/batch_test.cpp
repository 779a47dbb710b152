// Contract: the batch calls Store::CreateTasks and Store::SubmitResults (issue 7) answer every
// input as the single call would, in input order, on both backends.
#include <set>

#include "contract_fixture.h"

namespace codeq::contract {
namespace {

CreateTaskInput NewInput(Task task, const std::string& idempotency_key = "") {
  CreateTaskInput in;
  in.task = std::move(task);
  in.now = RealNow();
  in.visible_at_sec = in.now.seconds();
  in.idempotency_key = idempotency_key;
  return in;
}

/// Claims up to `max_tasks` tasks of `command` for worker "w" in one store call.
Result<std::vector<Task>> ClaimMany(Store& store, const std::string& command, int max_tasks) {
  ClaimInput claim;
  claim.worker_id = "w";
  claim.commands = {command};
  claim.lease_seconds = 30;
  claim.now = RealNow();
  return Await(store.ClaimTasks(claim, max_tasks));
}

TEST_P(StoreContract, CreateTasksAnswersEachInputAndReplaysAnEarlierKey) {
  std::vector<CreateTaskInput> inputs;
  inputs.push_back(NewInput(MakeTask("batch")));
  inputs.push_back(NewInput(MakeTask("batch"), "k1"));
  inputs.push_back(NewInput(MakeTask("batch", "", 5)));
  inputs.push_back(NewInput(MakeTask("batch"), "k1"));  // replays the second input
  inputs.push_back(NewInput(MakeTask("batch")));
  std::vector<std::string> ids;
  for (const auto& in : inputs) ids.push_back(in.task.id);

  auto outs = Await(store().CreateTasks(inputs));
  ASSERT_EQ(outs.size(), inputs.size());
  for (size_t i = 0; i < outs.size(); ++i) ASSERT_TRUE(outs[i].ok()) << i << ": " << outs[i].status().message();
  EXPECT_FALSE(outs[1]->replayed);
  EXPECT_TRUE(outs[3]->replayed);
  EXPECT_EQ(outs[3]->task.id, ids[1]);
  for (size_t i : {0, 1, 2, 4}) {
    EXPECT_FALSE(outs[i]->replayed) << i;
    EXPECT_EQ(outs[i]->task.id, ids[i]) << i;
  }
  // Four tasks exist, the priority-5 one claimed first.
  EXPECT_EQ(ClaimOne("w", "", {"batch"}).id, ids[2]);
  std::set<std::string> rest;
  for (int i = 0; i < 3; ++i) rest.insert(ClaimOne("w", "", {"batch"}).id);
  EXPECT_EQ(rest, (std::set<std::string>{ids[0], ids[1], ids[4]}));
  auto none = Claim("w", "", {"batch"});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto replayed = Await(store().GetTask("", ids[3]));
  EXPECT_EQ(replayed.status().code(), StatusCode::kNotFound);
}

TEST_P(StoreContract, CreateTasksOfManyKeepArrayOrderAcrossStoreCalls) {
  // 250 inputs are three script calls on Redis (100 per call): tasks of one tier are
  // still claimed in array order, and an input replays a key set by an input of an earlier call.
  std::vector<CreateTaskInput> inputs;
  for (int i = 0; i < 250; ++i) inputs.push_back(NewInput(MakeTask("many"), i == 5 || i == 230 ? "k" : ""));
  auto outs = Await(store().CreateTasks(inputs));
  ASSERT_EQ(outs.size(), inputs.size());
  for (size_t i = 0; i < outs.size(); ++i) ASSERT_TRUE(outs[i].ok()) << i << ": " << outs[i].status().message();
  EXPECT_TRUE(outs[230]->replayed);
  EXPECT_EQ(outs[230]->task.id, inputs[5].task.id);

  auto claimed = ClaimMany(store(), "many", 300);
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  std::vector<std::string> want, got;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (i != 230) want.push_back(inputs[i].task.id);
  }
  for (const Task& t : *claimed) got.push_back(t.id);
  EXPECT_EQ(got, want);
}

TEST_P(StoreContract, CreateTasksOfNothingAnswersNothing) {
  auto outs = Await(store().CreateTasks({}));
  EXPECT_TRUE(outs.empty());
}

TEST_P(StoreContract, SubmitResultsAnswersEachInputLikeSubmitResult) {
  const std::string a = Create("results").id, b = Create("results").id, c = Create("results").id;
  std::set<std::string> leased;
  for (int i = 0; i < 3; ++i) leased.insert(ClaimOne("w", "", {"results"}).id);
  ASSERT_EQ(leased, (std::set<std::string>{a, b, c}));

  // Each input's result names its task, so the stored results can be told apart.
  auto input = [](const std::string& tenant, const std::string& id, const std::string& worker) {
    SubmitResultInput in = ResultFor(tenant, id, worker);
    in.result.result = boost::json::object{{"id", id}};
    return in;
  };
  std::vector<SubmitResultInput> inputs;
  inputs.push_back(input("", a, "w"));
  inputs.push_back(input("", b, "other"));    // not the lease owner
  inputs.push_back(input("", "00000000-0000-4000-8000-000000000000", "w"));  // unknown
  inputs.push_back(input("t2", c, "w"));      // another tenant's task: unknown to t2
  inputs.push_back(input("", c, "w"));
  inputs.push_back(input("", a, "w"));        // a second result for a finished task
  inputs[4].result.status = "FAILED";
  inputs[4].result.result.reset();
  inputs[4].result.error = "boom";

  auto outs = Await(store().SubmitResults(inputs));
  ASSERT_EQ(outs.size(), inputs.size());
  ASSERT_TRUE(outs[0].ok()) << outs[0].status().message();
  EXPECT_EQ(outs[0]->id, a);
  EXPECT_EQ(outs[0]->status, "COMPLETED");
  EXPECT_EQ(outs[1].status().code(), StatusCode::kForbidden);
  EXPECT_EQ(outs[2].status().code(), StatusCode::kNotFound);
  EXPECT_EQ(outs[3].status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(outs[4].ok()) << outs[4].status().message();
  EXPECT_EQ(outs[4]->status, "FAILED");
  EXPECT_EQ(outs[5].status().code(), StatusCode::kConflict);

  auto ra = Await(store().GetResult("", a));
  ASSERT_TRUE(ra.ok()) << ra.status().message();
  EXPECT_EQ(ra->status, "COMPLETED");
  ASSERT_TRUE(ra->result.has_value());
  EXPECT_EQ(boost::json::serialize(*ra->result), "{\"id\":\"" + a + "\"}");
  auto rc = Await(store().GetResult("", c));
  ASSERT_TRUE(rc.ok()) << rc.status().message();
  EXPECT_EQ(rc->error, "boom");
  auto tb = Await(store().GetTask("", b));
  ASSERT_TRUE(tb.ok());
  EXPECT_EQ(tb->status, "IN_PROGRESS");  // the refused input changed nothing
}

TEST_P(StoreContract, SubmitResultsRefuseBadStatusesAndStoreTheRestAcrossStoreCalls) {
  // 200 results with invalid ones among them (first, middle, at the end): on Redis three calls,
  // the last holding only refused inputs. Every valid one is stored, every invalid one refused.
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(Create("many-results").id);
  auto claimed = ClaimMany(store(), "many-results", 200);
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  ASSERT_EQ(claimed->size(), 200u);

  std::vector<SubmitResultInput> inputs;
  std::vector<bool> valid;
  auto add_invalid = [&] {
    inputs.push_back(ResultFor("", ids[0], "w", "DONE"));
    valid.push_back(false);
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i == 0 || i == 50 || i == 100) add_invalid();
    inputs.push_back(ResultFor("", ids[i], "w"));
    valid.push_back(true);
  }
  for (int i = 0; i < 3; ++i) add_invalid();

  auto outs = Await(store().SubmitResults(inputs));
  ASSERT_EQ(outs.size(), inputs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    if (valid[i]) {
      ASSERT_TRUE(outs[i].ok()) << i << ": " << outs[i].status().message();
      EXPECT_EQ(outs[i]->id, inputs[i].task_id) << i;
      EXPECT_EQ(outs[i]->status, "COMPLETED") << i;
    } else {
      EXPECT_EQ(outs[i].status().code(), StatusCode::kInvalidArgument) << i;
    }
  }
}

}  // namespace
}  // namespace codeq::contract
