// The embedded backend under the Store contract: the same parameterized suite as Redis
// (contract_fixture.h), instantiated here with a fresh data directory per test.
#include <memory>

#include "contract_fixture.h"
#include "embedded_test_util.h"
#include "store/embedded/embedded_store.h"

namespace codeq::contract {
namespace {

class EmbeddedBackend final : public Backend {
 public:
  bool Open() {
    if (dir_.path().empty()) return false;
    EmbeddedOptions o;
    o.data_dir = dir_.path();
    o.sync = true;
    // No background timer: like Redis, repair and promotion happen only inside the calls, so the
    // suite observes exactly the states the contract describes (e.g. a nacked task stays in the
    // delayed set until the next claim).
    o.timer_interval_ms = 0;
    auto s = EmbeddedStore::Open(o);
    if (!s.ok()) {
      ADD_FAILURE() << s.status().message();
      return false;
    }
    store_ = *s;
    return true;
  }
  ~EmbeddedBackend() override { store_.reset(); }  // closes before the directory goes
  Store& store() override { return *store_; }
  bool Reopen() override {
    store_.reset();  // closes the database (flush, lock released)
    return Open();
  }

 private:
  TempDir dir_;
  std::shared_ptr<EmbeddedStore> store_;
};

}  // namespace

std::vector<BackendFactory> EmbeddedBackends() {
  return {{"Embedded", []() -> std::unique_ptr<Backend> {
             auto b = std::make_unique<EmbeddedBackend>();
             if (!b->Open()) return nullptr;
             return b;
           }}};
}

INSTANTIATE_TEST_SUITE_P(Embedded, StoreContract, ::testing::ValuesIn(EmbeddedBackends()),
                         [](const ::testing::TestParamInfo<BackendFactory>& info) { return info.param.name; });

}  // namespace codeq::contract
