// Free loopback TCP ports for test servers.
#pragma once

namespace codeq::test {

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
/// Another process may take it before the caller binds it, so starters retry on bind failure.
/// Returns 0 when no socket could be bound. O(1) syscalls.
int FreePort();

}  // namespace codeq::test
