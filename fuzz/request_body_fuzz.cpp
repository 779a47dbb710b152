// Fuzz target: every HTTP request-body decoder (src/api/json_body.*, src/api/request_decoding.*).
// The input is one request body; it is parsed as the handlers parse it and the object is fed to
// every decoder (create, claim, heartbeat, nack, result, cleanup, subscription and renewal, with
// the webhook URL policy, and both batch bodies item by item), so one input exercises each decoder its members reach.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/json_body.h"
#include "api/request_decoding.h"
#include "webhooks/url_policy.h"
#include "fuzz_check.h"

namespace {

using namespace codeq;
using namespace codeq::api;

constexpr int64_t kNowMs = 1'767'225'600'000;  // 2026-01-01
const webhooks::UrlPolicy kPolicy = *webhooks::UrlPolicy::Make("*.example.com 10.0.0.0/8", "169.254.0.0/16 fe80::/10");

void DecodeAll(const boost::json::object& o) {
  if (auto cr = DecodeCreateRequest(o); cr.ok()) {
    FUZZ_CHECK(IsValidCommand(cr->command));
    FUZZ_CHECK(cr->priority >= 0 && cr->priority <= 9);
    FUZZ_CHECK(cr->max_attempts >= -1 && cr->max_attempts <= 1000);
    FUZZ_CHECK(cr->delay_seconds >= 0);
    // The stored payload is compact JSON text that parses back (D17).
    FUZZ_CHECK(ParseObjectBody("{\"p\":" + cr->payload + "}", false, "x").ok());
  }
  (void)DecodeResultRequest(o);
  if (auto claim = DecodeClaimBody(o); claim.ok() && claim->max_tasks) {
    FUZZ_CHECK(*claim->max_tasks >= 1 && *claim->max_tasks <= kMaxBatchSize);
  }
  (void)DecodeHeartbeatBody(o);
  (void)DecodeNackBody(o);
  if (auto cleanup = DecodeCleanupBody(o, kNowMs); cleanup.ok()) {
    FUZZ_CHECK(cleanup->effective_limit >= 1 && cleanup->effective_limit <= 100000);
  }
  if (auto sub = DecodeSubscriptionBody(o); sub.ok()) {
    FUZZ_CHECK(IsHttpUrl(sub->callback_url));
    FUZZ_CHECK(!sub->event_types || sub->event_types->size() <= kMaxSubscriptionEventTypes);
    // The webhook policy's own URL parser must agree that this is a usable http(s) URL or say why.
    auto target = webhooks::ParseHttpUrl(sub->callback_url);
    FUZZ_CHECK(!target.ok() || (target->port >= 1 && !target->host.empty()));
    (void)kPolicy.CheckUrl(sub->callback_url);
  }
  (void)DecodeRenewBody(o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseObjectBody(body, true, "invalid body");
  if (!parsed.ok()) return 0;
  DecodeAll(*parsed);
  // Batch bodies: each item is decoded like a single request.
  if (auto tasks = DecodeBatchArray(*parsed, "tasks", "invalid body"); tasks.ok()) {
    for (const auto& v : **tasks) {
      if (v.is_object()) (void)DecodeCreateRequest(v.get_object());
    }
  }
  if (auto results = DecodeBatchArray(*parsed, "results", "invalid request body"); results.ok()) {
    for (const auto& v : **results) {
      if (v.is_object()) (void)DecodeResultRequest(v.get_object());
    }
  }
  return 0;
}
