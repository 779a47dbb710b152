#include "store/redis/redis_reply.h"

#include <hiredis/hiredis.h>

#include <charconv>

namespace codeq::redis {

long long Reply::as_int(long long fallback) const {
  if (type == Type::kInteger) return integer;
  if (is_string()) {
    long long v = 0;
    auto [p, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
    if (ec == std::errc() && p == str.data() + str.size()) return v;
  }
  return fallback;
}

Reply ConvertReply(const redisReply* r) {
  Reply out;
  if (r == nullptr) return out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(ConvertReply(r->element[i]));
      break;
    default:  // REDIS_REPLY_NIL and anything unknown
      out.type = Reply::Type::kNil;
      break;
  }
  return out;
}

}  // namespace codeq::redis
