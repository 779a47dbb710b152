#include "store/redis/script_pipeline.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <utility>

namespace codeq::redis {

ScriptPipeline::ScriptPipeline(ConnectionPool& connections, ScriptRunner& scripts)
    : connections_(connections), scripts_(scripts) {}

ScriptPipeline::~ScriptPipeline() { thread_.join(); }

boost::asio::awaitable<Result<Reply>> ScriptPipeline::Run(ScriptId id, std::vector<std::string> args) {
  auto initiation = [this, id](auto handler, std::vector<std::string> a) {
    // Keep the caller's executor busy meanwhile and resume there, never on the pipeline thread.
    auto ex = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                  boost::asio::execution::outstanding_work.tracked);
    auto h = std::make_shared<decltype(handler)>(std::move(handler));
    Submit(Call{id, std::move(a), [h, ex](Result<Reply> r) {
                  boost::asio::dispatch(ex, [h, r = std::move(r)]() mutable { std::move(*h)(std::move(r)); });
                }});
  };
  auto run = boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(Result<Reply>)>(
      std::move(initiation), boost::asio::use_awaitable, std::move(args));
  Result<Reply> out = co_await std::move(run);
  co_return out;
}

void ScriptPipeline::Submit(Call call) {
  if (queue_.Push(std::move(call))) boost::asio::post(thread_, [this] { Drain(); });
}

void ScriptPipeline::Drain() {
  std::vector<Call> taken;
  while (queue_.Take(taken, kMaxPipeline)) {
    std::vector<Result<Reply>> results;
    bool io_failed = false;
    {
      auto conn = connections_.Acquire();
      try {
        results = Execute(*conn, taken, &io_failed);
      } catch (const std::exception& e) {
        conn->Disconnect();  // its protocol state is unknown after an exception
        results.assign(taken.size(), Internal(std::string("store error: ") + e.what()));
      } catch (...) {
        conn->Disconnect();
        results.assign(taken.size(), Internal("store error"));
      }
    }
    for (size_t i = 0; i < taken.size(); ++i) taken[i].done(std::move(results[i]));
    if (io_failed) {
      // The backend did not answer (down, frozen, unreachable). The calls that queued up during
      // that round trip were not sent, so they did not run: answer them Unavailable now instead
      // of making each wait out another timeout (every answer stays within one timeout).
      queue_.TakeAll(taken);
      for (Call& c : taken) c.done(Unavailable(kUnavailableText));
    }
  }
}

std::vector<Result<Reply>> ScriptPipeline::Execute(Connection& conn, std::vector<Call>& calls, bool* io_failed) {
  std::vector<Argv> commands;
  commands.reserve(calls.size());
  for (const Call& c : calls) {
    std::string sha = scripts_.CachedSha(c.id);
    if (sha.empty()) {
      auto loaded = scripts_.Load(conn, c.id);
      if (!loaded.ok()) {
        *io_failed = loaded.status().code() == StatusCode::kUnavailable;
        return std::vector<Result<Reply>>(calls.size(), loaded.status());
      }
      sha = *loaded;
    }
    commands.push_back(ScriptCommand("EVALSHA", std::move(sha), c.args));
  }
  std::vector<Result<Reply>> replies = conn.PipelineEach(commands);
  std::vector<Result<Reply>> out;
  out.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    if (!replies[i].ok()) {  // no reply (I/O failure): only this call and the later ones
      *io_failed = true;
      out.push_back(replies[i].status());
      continue;
    }
    Reply& r = *replies[i];
    if (r.error_starts_with("NOSCRIPT")) {
      out.push_back(scripts_.RunBySource(conn, calls[i].id, calls[i].args));  // alone, by EVAL
    } else if (r.is_error()) {
      out.push_back(ErrorReplyStatus(r));
    } else {
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace codeq::redis
