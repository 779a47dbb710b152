// Fuzz target: the migration's legacy task-record reader (src/migrate/layout.* RewriteTask) and
// the domain task parser that verification applies to its output (TaskFromJsonText).
// First byte: which destination layout (unscoped with a rename, or a tenant); the rest is the
// record text found in the legacy `tasks` hash under field "task-1".
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/task.h"
#include "fuzz_check.h"
#include "migrate/layout.h"

namespace {

codeq::migrate::Layout MakeLayout(uint8_t selector) {
  codeq::migrate::Layout l;
  if (selector & 1) l.tenant = "acme";
  if (selector & 2) l.renames["legacy:cmd"] = "new.cmd";
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const codeq::migrate::Layout layout = MakeLayout(data[0]);
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  constexpr std::string_view kId = "task-1";
  codeq::migrate::TaskRewrite t = codeq::migrate::RewriteTask(layout, kId, text);
  FUZZ_CHECK(t.changed || t.text == text);
  if (!t.parsed) return 0;
  (void)codeq::TaskFromJsonText(text);
  // A record the domain can read carries the field's `id` (unless it had another one) and the
  // destination tenant after the rewrite. (Members of the wrong type make it unreadable; the
  // migration reports those, it does not fix them.)
  if (auto task = codeq::TaskFromJsonText(t.text); task.ok()) {
    if (!t.id_mismatch) FUZZ_CHECK(task->id == kId);
    FUZZ_CHECK(task->tenant_id == layout.tenant);
  }
  // Deterministic and idempotent: verification recomputes it, a resumed run rewrites again.
  codeq::migrate::TaskRewrite again = codeq::migrate::RewriteTask(layout, kId, t.text);
  FUZZ_CHECK(!again.changed && again.text == t.text);
  return 0;
}
