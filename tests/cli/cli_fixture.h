// Shared set-up of the CLI end-to-end tests: one redis-server and one `codeq serve --dev` for the
// whole binary, a fresh HOME per test, and helpers that run the real `codeq` CLI against them.
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli_runner.h"
#include "support/codeq_server.h"
#include "support/http_client.h"
#include "support/redis_server.h"

namespace codeq::clitest {

using EnvList = std::vector<std::pair<std::string, std::string>>;
namespace json = boost::json;

/// An EnvList value that removes the variable instead of setting it.
inline const std::string kUnset = "\x01unset";

/// The `codeq` binary under test.
std::string CodeqBinary();

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  static test::CodeqServer& server();
  static std::string BaseUrl();
  /// redis://127.0.0.1:<port> of the suite's redis-server.
  static std::string RedisUrl();

  /// Runs `codeq args...` with HOME=<this test's dir>, every CODEQ_* variable of the test process
  /// removed, and CODEQ_BASE_URL plus the dev producer/worker/admin tokens set (unless
  /// `with_defaults` is false); `env` goes on top (kUnset removes).
  CliResult Codeq(const std::vector<std::string>& args, const EnvList& env = {}, const std::string& stdin_text = "",
                  bool with_defaults = true);
  /// The same options for a background process.
  std::unique_ptr<CliProcess> StartCodeq(const std::vector<std::string>& args, const EnvList& env = {});
  CliOptions Options(const std::vector<std::string>& args, const EnvList& env, bool with_defaults) const;

  /// A command name unique to the running test.
  static std::string Cmd(const std::string& suffix = "");
  /// This test's temp dir (also HOME and the working directory of the CLI).
  const std::string& dir() const { return dir_; }
  /// Writes an executable file under dir() and returns its path.
  std::string WriteScript(const std::string& name, const std::string& text);
  /// Writes a file under dir() and returns its path.
  std::string WriteFile(const std::string& name, const std::string& text);

  /// Direct HTTP (not through the CLI) for checking server state.
  test::HttpResponse Http(const std::string& method, const std::string& path, const std::string& token,
                          const std::string& body = "");
  json::value GetTask(const std::string& id);
  /// Creates a task over HTTP with the dev producer token; returns its id.
  std::string CreateTask(const std::string& command, const std::string& payload = "{}");

 private:
  std::string dir_;
};

/// stdout parsed as one JSON document (null when invalid).
json::value ParseJson(const std::string& text);
/// Every line of `text` parsed as JSON (invalid lines are skipped).
std::vector<json::value> JsonLines(const std::string& text);
/// Member `key` of an object as a string ("" otherwise).
std::string Str(const json::value& v, const char* key);

}  // namespace codeq::clitest
