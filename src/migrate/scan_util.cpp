#include "migrate/scan_util.h"

#include <algorithm>
#include <iterator>

namespace codeq::migrate {

std::vector<std::string> Strings(const Reply& r, std::vector<bool>* nil) {
  std::vector<std::string> out;
  out.reserve(r.elements.size());
  if (nil != nullptr) nil->assign(r.elements.size(), false);
  for (size_t i = 0; i < r.elements.size(); ++i) {
    const Reply& e = r.elements[i];
    out.push_back(e.str);
    if (nil != nullptr && e.is_nil()) (*nil)[i] = true;
  }
  return out;
}

Status ScanKeys(RedisClient& c, const std::string& pattern, int count,
                const std::function<Status(std::vector<std::string>&)>& fn) {
  std::string cursor = "0";
  do {
    auto r = c.Checked({"SCAN", cursor, "MATCH", pattern, "COUNT", std::to_string(count)});
    if (!r.ok()) return r.status();
    if (!r->is_array() || r->elements.size() != 2) return Internal("redis SCAN: unexpected reply");
    cursor = r->elements[0].str;
    auto keys = Strings(r->elements[1]);
    if (!keys.empty()) {
      if (auto s = fn(keys); !s.ok()) return s;
    }
  } while (cursor != "0");
  return Status::Ok();
}

Status ScanPairs(RedisClient& c, const std::string& scan_cmd, const std::string& key, std::string cursor, int count,
                 const std::function<Status(std::vector<std::pair<std::string, std::string>>&, const std::string&)>& fn) {
  if (cursor.empty()) cursor = "0";
  do {
    auto r = c.Checked({scan_cmd, key, cursor, "COUNT", std::to_string(count)});
    if (!r.ok()) return r.status();
    if (!r->is_array() || r->elements.size() != 2) return Internal("redis " + scan_cmd + ": unexpected reply");
    cursor = r->elements[0].str;
    const auto& kv = r->elements[1].elements;
    std::vector<std::pair<std::string, std::string>> page;
    page.reserve(kv.size() / 2);
    for (size_t i = 0; i + 1 < kv.size(); i += 2) page.emplace_back(kv[i].str, kv[i + 1].str);
    if (auto s = fn(page, cursor); !s.ok()) return s;
  } while (cursor != "0");
  return Status::Ok();
}

Status ScanSet(RedisClient& c, const std::string& key, int count,
               const std::function<Status(std::vector<std::string>&)>& fn) {
  std::string cursor = "0";
  do {
    auto r = c.Checked({"SSCAN", key, cursor, "COUNT", std::to_string(count)});
    if (!r.ok()) return r.status();
    if (!r->is_array() || r->elements.size() != 2) return Internal("redis SSCAN: unexpected reply");
    cursor = r->elements[0].str;
    auto members = Strings(r->elements[1]);
    if (!members.empty()) {
      if (auto s = fn(members); !s.ok()) return s;
    }
  } while (cursor != "0");
  return Status::Ok();
}

Status ListPages(RedisClient& c, const std::string& key, int count,
                 const std::function<Status(std::vector<std::string>&, long long)>& fn) {
  auto len = c.Checked({"LLEN", key});
  if (!len.ok()) return len.status();
  long long n = len->as_int();
  for (long long start = 0; start < n; start += count) {
    long long stop = std::min(n, start + count) - 1;
    auto r = c.Checked({"LRANGE", key, std::to_string(start), std::to_string(stop)});
    if (!r.ok()) return r.status();
    auto page = Strings(*r);
    if (page.empty()) break;
    if (auto s = fn(page, start); !s.ok()) return s;
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ReadList(RedisClient& c, const std::string& key, int count) {
  std::vector<std::string> out;
  auto s = ListPages(c, key, count, [&](std::vector<std::string>& page, long long) {
    out.insert(out.end(), std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<std::string>> ReadSet(RedisClient& c, const std::string& key, int count) {
  std::vector<std::string> out;
  auto s = ScanSet(c, key, count, [&](std::vector<std::string>& page) {
    out.insert(out.end(), std::make_move_iterator(page.begin()), std::make_move_iterator(page.end()));
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<std::vector<std::string>> Types(RedisClient& c, const std::vector<std::string>& keys) {
  std::vector<Argv> cmds;
  cmds.reserve(keys.size());
  for (const auto& k : keys) cmds.push_back({"TYPE", k});
  auto r = c.PipelineChecked(cmds);
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const auto& x : *r) out.push_back(x.str);
  return out;
}

Result<long long> SizeOf(RedisClient& c, const std::string& key, const std::string& type) {
  std::string cmd;
  if (type == "hash") cmd = "HLEN";
  else if (type == "zset") cmd = "ZCARD";
  else if (type == "list") cmd = "LLEN";
  else if (type == "set") cmd = "SCARD";
  else if (type == "string") cmd = "STRLEN";
  else return 0LL;
  auto r = c.Checked({cmd, key});
  if (!r.ok()) return r.status();
  return r->as_int();
}

Result<long long> ServerTimeMs(RedisClient& c) {
  auto r = c.Checked({"TIME"});
  if (!r.ok()) return r.status();
  if (!r->is_array() || r->elements.size() != 2) return Internal("redis TIME: unexpected reply");
  return r->elements[0].as_int() * 1000 + r->elements[1].as_int() / 1000;
}

}  // namespace codeq::migrate
