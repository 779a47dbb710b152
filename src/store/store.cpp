// Default implementations of the Store's batch calls: concurrent single calls.
#include "store/store.h"

#include "domain/concurrently.h"

namespace codeq {

namespace {

/// Runs `one(inputs[i])` for every input concurrently, inputs sharing a non-empty `keys[i]` in
/// order (RunInWaves), and returns the outcomes in input order.
template <typename T, typename Input, typename F>
Async<std::vector<Result<T>>> RunEach(std::vector<Input> inputs, std::vector<std::string> keys, F one) {
  std::vector<size_t> all(inputs.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  std::vector<std::optional<Result<T>>> slots(inputs.size());
  co_await RunInWaves(all, keys, [&](size_t i) { return AwaitInto(one(std::move(inputs[i])), &slots[i]); });
  co_return TakeSlots(slots);
}

}  // namespace

Async<std::vector<Result<CreateOutcome>>> Store::CreateTasks(std::vector<CreateTaskInput> inputs) {
  std::vector<std::string> keys(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].idempotency_key.empty()) keys[i] = inputs[i].task.tenant_id + '\0' + inputs[i].idempotency_key;
  }
  return RunEach<CreateOutcome>(std::move(inputs), std::move(keys),
                                [this](CreateTaskInput in) { return CreateTask(std::move(in)); });
}

Async<std::vector<Result<Task>>> Store::SubmitResults(std::vector<SubmitResultInput> inputs) {
  std::vector<std::string> keys(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) keys[i] = inputs[i].tenant + '\0' + inputs[i].task_id;
  return RunEach<Task>(std::move(inputs), std::move(keys),
                       [this](SubmitResultInput in) { return SubmitResult(std::move(in)); });
}

}  // namespace codeq
