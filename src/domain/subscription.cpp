// Subscription JSON codec (SPEC §1.5 plus tenantId/workerId, D6, D16).
#include "domain/subscription.h"

#include <boost/json.hpp>

#include "domain/json_read.h"
#include "domain/time_format.h"

namespace codeq {
namespace json = boost::json;
using json_read::GetInt;
using json_read::GetString;
using json_read::PutNonEmpty;

namespace {

// Optional array of strings. Lua's cjson writes an empty array as `{}`: accepted as empty.
bool ReadStrings(const json::object& o, std::string_view k, std::vector<std::string>& out) {
  auto it = o.find(k);
  if (it == o.end() || it->value().is_null()) return true;
  if (it->value().is_object()) return it->value().get_object().empty();
  if (!it->value().is_array()) return false;
  for (const json::value& e : it->value().get_array()) {
    if (!e.is_string()) return false;
    out.emplace_back(e.get_string());
  }
  return true;
}

// Floor division, so an instant before 1970 still maps to the second that contains it.
int64_t FloorSeconds(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

}  // namespace

std::string SubscriptionToJsonText(const Subscription& s) {
  json::object o;
  o["id"] = s.id;
  o["callbackUrl"] = s.callback_url;
  json::array events;
  for (const auto& e : s.event_types) events.emplace_back(e);
  o["eventTypes"] = std::move(events);
  o["deliveryMode"] = s.delivery_mode;
  PutNonEmpty(o, "groupId", s.group_id);
  o["minIntervalSeconds"] = s.min_interval_seconds;
  o["expiresAt"] = s.expires_at;
  o["createdAt"] = s.created_at;
  PutNonEmpty(o, "tenantId", s.tenant_id);
  PutNonEmpty(o, "workerId", s.worker_id);
  return json::serialize(o);
}

Result<Subscription> SubscriptionFromJsonText(std::string_view text) {
  json::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return InvalidArgument("subscription record is not a JSON object");
  const json::object& o = v.get_object();
  Subscription s;
  bool ok = GetString(o, "id", s.id) && GetString(o, "callbackUrl", s.callback_url) &&
            ReadStrings(o, "eventTypes", s.event_types) &&
            GetString(o, "deliveryMode", s.delivery_mode) && GetString(o, "groupId", s.group_id) &&
            GetInt(o, "minIntervalSeconds", s.min_interval_seconds) &&
            GetString(o, "expiresAt", s.expires_at) && GetString(o, "createdAt", s.created_at) &&
            GetString(o, "tenantId", s.tenant_id) && GetString(o, "workerId", s.worker_id);
  if (!ok) return InvalidArgument("subscription record has a member of the wrong type");
  if (s.id.empty()) return InvalidArgument("subscription record has no id");
  auto ms = ParseRfc3339Ms(s.expires_at);
  if (!ms) return InvalidArgument("subscription record has an unparsable expiresAt");
  s.expires_at_sec = FloorSeconds(*ms);
  return s;
}

}  // namespace codeq
