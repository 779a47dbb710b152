// Process resource figures and limits for tests that measure a server (memory, descriptors).
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace codeq::test {

/// Resident set size of process `pid` in KiB (VmRSS of /proc/<pid>/status); -1 when unknown.
int64_t ResidentKb(pid_t pid);

/// Open socket descriptors of process `pid` (entries of /proc/<pid>/fd that are sockets); -1 when
/// unknown. O(open descriptors).
int64_t OpenSocketCount(pid_t pid);

/// Raises this process's soft RLIMIT_NOFILE to at least `wanted` (capped at the hard limit);
/// children spawned afterwards inherit it. Returns the soft limit now in force.
uint64_t RaiseOpenFileLimit(uint64_t wanted);

}  // namespace codeq::test
