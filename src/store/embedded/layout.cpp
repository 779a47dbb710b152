#include "store/embedded/layout.h"

#include <algorithm>
#include <cstring>

namespace codeq::embedded {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not canonical (SPEC §1.1)
}

void PutVarint(std::string& out, uint32_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view& in, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && !in.empty(); shift += 7) {
    auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    result |= static_cast<uint32_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

void PutStr(std::string& out, std::string_view s) {
  PutVarint(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

bool GetStr(std::string_view& in, std::string* s) {
  uint32_t n = 0;
  if (!GetVarint(in, &n) || in.size() < n) return false;
  s->assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

void PutBe64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetBe64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}
void PutLe64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLe64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

constexpr uint64_t kSignFlip = 0x8000000000000000ULL;

std::string IdKey(char prefix, const Uuid& id) {
  std::string k(1, prefix);
  k.append(reinterpret_cast<const char*>(id.data()), id.size());
  return k;
}

void CopyId(std::string_view bytes, Uuid* id) { std::memcpy(id->data(), bytes.data(), 16); }

constexpr size_t kEnvelopeFixed = 35;        // version 2
constexpr size_t kLegacyEnvelopeFixed = 27;  // version 1: no indexed deadline

}  // namespace

std::optional<Uuid> ParseUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  Uuid id{};
  size_t byte = 0;
  for (size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int hi = HexValue(text[i]), lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return id;
}

std::string FormatUuid(const Uuid& id) {
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHexDigits[id[i] >> 4]);
    out.push_back(kHexDigits[id[i] & 0xf]);
  }
  return out;
}

bool ValidState(uint8_t s) { return s >= 1 && s <= 5; }

std::string TaskKey(const Uuid& id) { return IdKey(kTaskPrefix, id); }
std::string ResultKey(const Uuid& id) { return IdKey(kResultPrefix, id); }

std::string RetentionKey(int64_t retention_sec, const Uuid& id) {
  std::string k(1, kRetentionPrefix);
  PutBe64(k, static_cast<uint64_t>(retention_sec) ^ kSignFlip);
  k.append(reinterpret_cast<const char*>(id.data()), id.size());
  return k;
}

std::string RetentionUpperBound(int64_t sec) {
  if (sec == INT64_MAX) return std::string(1, static_cast<char>(kRetentionPrefix + 1));  // past every 'x' key
  std::string k(1, kRetentionPrefix);
  PutBe64(k, static_cast<uint64_t>(sec + 1) ^ kSignFlip);
  return k;
}

std::string IdemKey(std::string_view tenant, std::string_view key) {
  std::string k(1, kIdemPrefix);
  PutStr(k, tenant);
  k.append(key);
  return k;
}

std::string CommandKey(std::string_view tenant, std::string_view command) {
  std::string k(1, kCommandPrefix);
  PutStr(k, tenant);
  k.append(command);
  return k;
}

std::string DlqKey(std::string_view tenant, std::string_view command_lower, uint64_t seq) {
  std::string k(1, kDlqPrefix);
  PutStr(k, tenant);
  PutStr(k, command_lower);
  PutBe64(k, seq);
  return k;
}

std::string OutboxKey(const Uuid& id) { return IdKey(kOutboxPrefix, id); }

std::string SubscriptionKey(std::string_view sub_id) {
  std::string k(1, kSubscriptionPrefix);
  k.append(sub_id);
  return k;
}

std::string EncodeTask(const Envelope& env, std::string_view json) {
  std::string v;
  v.reserve(kEnvelopeFixed + 1 + env.idem_key.size() + json.size());
  v.push_back(static_cast<char>(kLayoutVersion));
  v.push_back(static_cast<char>(env.state));
  v.push_back(static_cast<char>(env.tier));
  PutLe64(v, env.seq);
  PutLe64(v, static_cast<uint64_t>(env.due_ms));
  PutLe64(v, static_cast<uint64_t>(env.retention_sec));
  PutLe64(v, static_cast<uint64_t>(env.indexed_sec));
  PutStr(v, env.idem_key);
  v.append(json);
  return v;
}

bool DecodeTask(std::string_view value, Envelope* env, std::string_view* json, std::string* why) {
  if (value.empty()) {
    *why = "record too short";
    return false;
  }
  const auto version = static_cast<uint8_t>(value[0]);
  if (version != kLayoutVersion && version != kLegacyEnvelopeVersion) {
    *why = "unknown record version " + std::to_string(version);
    return false;
  }
  const size_t fixed = version == kLayoutVersion ? kEnvelopeFixed : kLegacyEnvelopeFixed;
  if (value.size() < fixed + 1) {
    *why = "record too short";
    return false;
  }
  auto state = static_cast<uint8_t>(value[1]);
  auto tier = static_cast<uint8_t>(value[2]);
  if (!ValidState(state) || tier > 9) {
    *why = "bad state or priority byte";
    return false;
  }
  env->state = static_cast<State>(state);
  env->tier = tier;
  env->seq = GetLe64(value.substr(3));
  env->due_ms = static_cast<int64_t>(GetLe64(value.substr(11)));
  env->retention_sec = static_cast<int64_t>(GetLe64(value.substr(19)));
  // Version 1 kept the 'x' key exactly at the retention deadline.
  env->indexed_sec =
      version == kLayoutVersion ? static_cast<int64_t>(GetLe64(value.substr(27))) : env->retention_sec;
  if (env->indexed_sec > env->retention_sec) {
    *why = "retention index key past the retention deadline";
    return false;
  }
  std::string_view rest = value.substr(fixed);
  if (!GetStr(rest, &env->idem_key)) {
    *why = "bad idempotency key field";
    return false;
  }
  *json = rest;
  return true;
}

std::string EncodeRetentionValue(State state, std::string_view tenant) {
  std::string v(1, static_cast<char>(state));
  v.append(tenant);
  return v;
}

bool DecodeRetentionValue(std::string_view value, State* state, std::string_view* tenant) {
  if (value.empty() || !ValidState(static_cast<uint8_t>(value[0]))) return false;
  *state = static_cast<State>(value[0]);
  *tenant = value.substr(1);
  return true;
}

std::string EncodeIdemValue(const Uuid& id, int64_t expiry_ms) {
  std::string v(reinterpret_cast<const char*>(id.data()), id.size());
  PutLe64(v, static_cast<uint64_t>(expiry_ms));
  return v;
}

bool DecodeIdemValue(std::string_view value, Uuid* id, int64_t* expiry_ms) {
  if (value.size() != 24) return false;
  CopyId(value, id);
  *expiry_ms = static_cast<int64_t>(GetLe64(value.substr(16)));
  return true;
}

std::string EncodeOutboxValue(const OutboxValue& v) {
  std::string out(1, static_cast<char>(kLayoutVersion));
  PutLe64(out, static_cast<uint64_t>(v.due_ms));
  PutVarint(out, static_cast<uint32_t>(std::max(0, v.attempts)));
  PutStr(out, v.url);
  PutStr(out, v.tenant);
  PutStr(out, v.command);
  return out;
}

bool DecodeOutboxValue(std::string_view value, OutboxValue* v) {
  if (value.size() < 9 || static_cast<uint8_t>(value[0]) != kLayoutVersion) return false;
  v->due_ms = static_cast<int64_t>(GetLe64(value.substr(1)));
  value.remove_prefix(9);
  uint32_t attempts = 0;
  if (!GetVarint(value, &attempts) || !GetStr(value, &v->url) || !GetStr(value, &v->tenant) ||
      !GetStr(value, &v->command)) {
    return false;
  }
  v->attempts = static_cast<int>(attempts);
  return value.empty();
}

bool ParseIdKey(std::string_view key, Uuid* id) {
  if (key.size() != 17) return false;
  CopyId(key.substr(1), id);
  return true;
}

bool ParseRetentionKey(std::string_view key, int64_t* retention_sec, Uuid* id) {
  if (key.size() != 25 || key[0] != kRetentionPrefix) return false;
  *retention_sec = static_cast<int64_t>(GetBe64(key.substr(1)) ^ kSignFlip);
  CopyId(key.substr(9), id);
  return true;
}

bool ParseCommandKey(std::string_view key, std::string* tenant, std::string* command) {
  if (key.empty() || key[0] != kCommandPrefix) return false;
  key.remove_prefix(1);
  if (!GetStr(key, tenant) || key.empty()) return false;
  command->assign(key);
  return true;
}

bool ParseIdemKey(std::string_view key, std::string* tenant, std::string* idem_key) {
  if (key.empty() || key[0] != kIdemPrefix) return false;
  key.remove_prefix(1);
  if (!GetStr(key, tenant) || key.empty()) return false;
  idem_key->assign(key);
  return true;
}

bool ParseDlqKey(std::string_view key, std::string* tenant, std::string* command_lower, uint64_t* seq) {
  if (key.empty() || key[0] != kDlqPrefix) return false;
  key.remove_prefix(1);
  if (!GetStr(key, tenant) || !GetStr(key, command_lower) || key.size() != 8) return false;
  *seq = GetBe64(key);
  return true;
}

uint64_t Hash64(std::string_view a, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ (seed * 0x9e3779b97f4a7c15ULL);  // FNV-1a, then a mix
  for (unsigned char c : a) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::string Hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 0xf]);
  }
  return out;
}

}  // namespace codeq::embedded
