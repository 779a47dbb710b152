// Identifiers the server generates: task and delivery ids (SPEC §1.1) and request ids (X-Request-Id).
#pragma once

#include <string>

namespace codeq {

/// A random version-4 UUID in its 36-character text form (RFC 9562 §5.4), for task ids (SPEC §1.1)
/// and webhook delivery ids. Every byte comes from the operating system's CSPRNG (getrandom), so
/// ids cannot be predicted from earlier ones. Thread-safe.
std::string NewUuidV4();

/// A request id for X-Request-Id: 32 lower-case hex digits of a version-4 UUID from a per-thread
/// Mersenne Twister seeded once from the OS. About 100× cheaper than NewUuidV4 (no system call per
/// id); unique in practice but predictable, so never use it where guessing an id would matter.
/// Thread-safe.
std::string NewRequestId();

}  // namespace codeq
