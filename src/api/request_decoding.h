// Decoding and validation of one create request and one result submission, shared by the single
// and batch endpoints (one path for both, ARCHITECTURE.md).
#pragma once

#include <boost/json.hpp>

#include "domain/status.h"
#include "service/scheduler.h"

namespace codeq::api {

/// SPEC §2.3 validation steps 1–5 on a decoded JSON object, in order. Errors are
/// InvalidArgument with the SPEC's texts: "invalid body", "invalid 'runAt' (use RFC3339)",
/// "invalid 'delaySeconds' (must be >= 0)", "invalid command", "invalid webhook url".
Result<CreateRequest> DecodeCreateRequest(const boost::json::object& o);

/// SPEC §2.8 step 1 on a decoded JSON object: `status` a non-empty string, `error` a string,
/// `result` an object (or null/absent), `artifacts` an array of objects with string members.
/// Error: InvalidArgument("invalid request body"). Status rules (step 6) are the Scheduler's.
Result<ResultRequest> DecodeResultRequest(const boost::json::object& o);

}  // namespace codeq::api
