#include "service/artifacts.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace codeq {
namespace fs = std::filesystem;

bool IsValidArtifactName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos ||
      name.find("..") != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return false;
  }
  return true;
}

Result<std::string> DecodeBase64(std::string_view text) {
  std::string in(text);
  while (in.size() % 4 != 0) in.push_back('=');
  if (in.empty()) return std::string();
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return InvalidArgument("illegal base64 data");
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '=' && pad < 2; --i) ++pad;
  // More than two '=' means the input itself was malformed.
  if (in.size() >= 3 && in[in.size() - 3] == '=') return InvalidArgument("illegal base64 data");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Result<std::string> WriteArtifactFile(const std::string& dir, const std::string& task_id,
                                      const std::string& name, const std::string& bytes) {
  std::error_code ec;
  fs::path folder = fs::absolute(fs::path(dir) / "results" / task_id, ec);
  if (ec) return Internal(ec.message());
  fs::create_directories(folder, ec);
  if (ec) return Internal(ec.message());
  thread_local std::mt19937_64 gen{std::random_device{}()};
  fs::path tmp = folder / ("." + name + ".tmp-" + std::to_string(gen()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Internal(std::strerror(errno));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      fs::remove(tmp, ec);
      return Internal("write failed");
    }
  }
  fs::path target = folder / name;
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Internal(ec.message());
  }
  return target.string();
}

}  // namespace codeq
