// Principal queries.
#include "auth/principal.h"

#include <algorithm>

namespace codeq {

bool Principal::HasScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

bool Principal::AllowsEvent(std::string_view cmd) const {
  return std::any_of(event_types.begin(), event_types.end(),
                     [cmd](const std::string& e) { return e == "*" || e == cmd; });
}

bool Principal::HasWildcard() const {
  return std::find(event_types.begin(), event_types.end(), "*") != event_types.end();
}

}  // namespace codeq
