#include "cli/profile_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "cli/cli_status.h"
#include "domain/file_text.h"

namespace codeq::cli {
namespace fs = std::filesystem;

namespace {

std::string Str(const YAML::Node& map, const char* key) {
  const YAML::Node n = map[key];
  if (!n || n.IsNull()) return "";
  if (!n.IsScalar()) throw YAML::Exception(n.Mark(), std::string(key) + " must be a string");
  return n.as<std::string>();
}

TemplateHeaders Headers(const YAML::Node& map) {
  TemplateHeaders out;
  const YAML::Node n = map["headers"];
  if (!n || n.IsNull()) return out;
  if (!n.IsMap()) throw YAML::Exception(n.Mark(), "headers must be a mapping of name: value");
  for (const auto& kv : n) out.emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
  return out;
}

const YAML::Node Section(const YAML::Node& node, const char* key) {
  const YAML::Node n = node[key];
  if (n && !n.IsNull() && !n.IsMap()) throw YAML::Exception(n.Mark(), std::string(key) + " must be a mapping");
  return n;
}

void SetOrRemove(YAML::Node node, const char* key, const std::string& value) {
  if (value.empty()) {
    node.remove(key);
  } else {
    node[key] = value;
  }
}

void SetHeaders(YAML::Node node, const TemplateHeaders& headers) {
  if (headers.empty()) {
    node.remove("headers");
    return;
  }
  YAML::Node map(YAML::NodeType::Map);
  for (const auto& [k, v] : headers) map[k] = v;
  node["headers"] = map;
}

// Removes an empty mapping `key` from `parent`.
void DropIfEmpty(YAML::Node parent, const char* key) {
  const YAML::Node n = parent[key];
  if (n && n.IsMap() && n.size() == 0) parent.remove(key);
}

Profile ReadProfile(const YAML::Node& p) {
  Profile out;
  if (!p || p.IsNull()) return out;
  if (!p.IsMap()) throw YAML::Exception(p.Mark(), "a profile must be a mapping");
  out.base_url = Str(p, "baseUrl");
  out.iam_base_url = Str(p, "iamBaseUrl");
  out.iam_api_key = Str(p, "iamApiKey");
  out.token = Str(p, "token");
  out.producer_token = Str(p, "producerToken");
  out.worker_token = Str(p, "workerToken");
  out.admin_token = Str(p, "adminToken");
  if (const YAML::Node a = p["admin"]; a && !a.IsNull()) out.admin = a.as<bool>();
  const YAML::Node auth = Section(p, "auth");
  if (auth && auth.IsMap()) {
    if (const YAML::Node l = Section(auth, "login"); l && l.IsMap()) {
      out.login.url_template = Str(l, "urlTemplate");
      out.login.method = Str(l, "method");
      out.login.body_template = Str(l, "bodyTemplate");
      out.login.content_type = Str(l, "contentType");
      out.login.token_path = Str(l, "tokenPath");
      out.login.headers = Headers(l);
    }
    if (const YAML::Node x = Section(auth, "exchange"); x && x.IsMap()) {
      out.exchange.url_template = Str(x, "urlTemplate");
      out.exchange.method = Str(x, "method");
      out.exchange.content_type = Str(x, "contentType");
      out.exchange.token_path = Str(x, "tokenPath");
      out.exchange.audience = Str(x, "audience");
      out.exchange.tenant_id = Str(x, "tenantId");
      out.exchange.headers = Headers(x);
      if (const YAML::Node s = x["scopes"]; s && !s.IsNull()) {
        if (!s.IsSequence()) throw YAML::Exception(s.Mark(), "scopes must be a list");
        for (const auto& e : s) out.exchange.scopes.push_back(e.as<std::string>());
      }
    }
  }
  return out;
}

}  // namespace

std::string ConfigFile::PathFor(const EnvLookup& env) {
  if (auto dir = env("CODEQ_CONFIG_DIR"); dir && !dir->empty()) return (fs::path(*dir) / "config.yaml").string();
  std::string home = env("HOME").value_or("");
  if (home.empty()) home = ".";
  return (fs::path(home) / ".codeq" / "config.yaml").string();
}

Result<ConfigFile> ConfigFile::Load(const std::string& path) {
  ConfigFile out;
  out.path_ = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    out.root_ = YAML::Node(YAML::NodeType::Map);
    return out;
  }
  auto text = ReadFileText(path);
  if (!text.ok()) return UsageError("config file " + text.status().message());
  try {
    out.root_ = YAML::Load(*text);
    if (out.root_.IsNull()) out.root_ = YAML::Node(YAML::NodeType::Map);
    if (!out.root_.IsMap()) return UsageError("config file " + path + ": not a YAML mapping");
    const YAML::Node& root = out.root_;
    if (const YAML::Node c = root["currentProfile"]; c && !c.IsNull() && !c.IsScalar()) {
      return UsageError("config file " + path + ": currentProfile must be a string");
    }
    const YAML::Node profiles = root["profiles"];
    if (profiles && !profiles.IsNull()) {
      if (!profiles.IsMap()) return UsageError("config file " + path + ": profiles must be a mapping");
      for (const auto& kv : profiles) ReadProfile(kv.second);  // shape check
    }
  } catch (const YAML::Exception& e) {
    return UsageError("config file " + path + ": " + e.what());
  }
  return out;
}

std::string ConfigFile::current_profile() const {
  const YAML::Node& root = root_;
  const YAML::Node c = root["currentProfile"];
  return c && c.IsScalar() ? c.as<std::string>() : "";
}

void ConfigFile::set_current_profile(const std::string& name) { root_["currentProfile"] = name; }

bool ConfigFile::Has(const std::string& name) const {
  const YAML::Node& root = root_;
  const YAML::Node profiles = root["profiles"];
  return profiles && profiles.IsMap() && profiles[name];
}

std::vector<std::string> ConfigFile::Names() const {
  std::vector<std::string> out;
  const YAML::Node& root = root_;
  const YAML::Node profiles = root["profiles"];
  if (profiles && profiles.IsMap()) {
    for (const auto& kv : profiles) out.push_back(kv.first.as<std::string>());
  }
  return out;
}

Profile ConfigFile::Get(const std::string& name) const {
  if (!Has(name)) return {};
  const YAML::Node& root = root_;
  return ReadProfile(root["profiles"][name]);
}

void ConfigFile::Put(const std::string& name, const Profile& p) {
  if (!root_["profiles"] || !root_["profiles"].IsMap()) root_["profiles"] = YAML::Node(YAML::NodeType::Map);
  YAML::Node profiles = root_["profiles"];
  if (!profiles[name] || !profiles[name].IsMap()) profiles[name] = YAML::Node(YAML::NodeType::Map);
  YAML::Node node = profiles[name];
  SetOrRemove(node, "baseUrl", p.base_url);
  SetOrRemove(node, "iamBaseUrl", p.iam_base_url);
  SetOrRemove(node, "iamApiKey", p.iam_api_key);
  SetOrRemove(node, "token", p.token);
  SetOrRemove(node, "producerToken", p.producer_token);
  SetOrRemove(node, "workerToken", p.worker_token);
  SetOrRemove(node, "adminToken", p.admin_token);
  if (p.admin) {
    node["admin"] = *p.admin;
  } else {
    node.remove("admin");
  }
  if (!node["auth"] || !node["auth"].IsMap()) node["auth"] = YAML::Node(YAML::NodeType::Map);
  YAML::Node auth = node["auth"];
  if (!auth["login"] || !auth["login"].IsMap()) auth["login"] = YAML::Node(YAML::NodeType::Map);
  if (!auth["exchange"] || !auth["exchange"].IsMap()) auth["exchange"] = YAML::Node(YAML::NodeType::Map);
  YAML::Node login = auth["login"];
  SetOrRemove(login, "urlTemplate", p.login.url_template);
  SetOrRemove(login, "method", p.login.method);
  SetOrRemove(login, "bodyTemplate", p.login.body_template);
  SetOrRemove(login, "contentType", p.login.content_type);
  SetOrRemove(login, "tokenPath", p.login.token_path);
  SetHeaders(login, p.login.headers);
  YAML::Node ex = auth["exchange"];
  SetOrRemove(ex, "urlTemplate", p.exchange.url_template);
  SetOrRemove(ex, "method", p.exchange.method);
  SetOrRemove(ex, "contentType", p.exchange.content_type);
  SetOrRemove(ex, "tokenPath", p.exchange.token_path);
  SetOrRemove(ex, "audience", p.exchange.audience);
  SetOrRemove(ex, "tenantId", p.exchange.tenant_id);
  SetHeaders(ex, p.exchange.headers);
  if (p.exchange.scopes.empty()) {
    ex.remove("scopes");
  } else {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const auto& s : p.exchange.scopes) seq.push_back(s);
    ex["scopes"] = seq;
  }
  DropIfEmpty(auth, "login");
  DropIfEmpty(auth, "exchange");
  DropIfEmpty(node, "auth");
}

Status ConfigFile::Save() const {
  fs::path path(path_);
  fs::path dir = path.parent_path();
  std::error_code ec;
  if (!dir.empty() && !fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return RunError("cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  YAML::Emitter emitter;
  emitter << root_;
  std::string text = std::string(emitter.c_str()) + "\n";
  std::string tmp = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return RunError("cannot write " + path_ + ": " + std::strerror(errno));
  size_t off = 0;
  bool ok = ::fchmod(fd, 0600) == 0;
  while (ok && off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) off += static_cast<size_t>(n);
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return RunError("cannot write " + path_);
  }
  return Status::Ok();
}

LoginSettings DefaultLoginSettings() {
  LoginSettings l;
  l.url_template = "{{iamBaseUrl}}/signInWithPassword?key={{apiKey}}";
  l.method = "POST";
  l.body_template = R"({"email":"{{email}}","password":"{{password}}"})";
  l.content_type = "application/json";
  l.token_path = "idToken";
  return l;
}

ExchangeSettings DefaultExchangeSettings() {
  ExchangeSettings x;
  x.url_template = "{{iamBaseUrl}}/token/exchange?key={{apiKey}}";
  x.method = "POST";
  x.content_type = "application/json";
  x.token_path = "accessToken";
  x.audience = "codeq-producer";
  return x;
}

}  // namespace codeq::cli
