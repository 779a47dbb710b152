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
  if (name.empty() || name.size() > 255 || name == ".") return false;
  if (name.find('/') != std::string_view::npos || name.find('\\') != std::string_view::npos ||
      name.find("..") != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return false;
  }
  return true;
}

Result<std::string> DecodeBase64(std::string_view text) {
  // The standard alphabet only, with '=' only as the final padding (EVP_DecodeBlock alone accepts
  // '=' inside the data and whitespace around it, and would write garbage for them).
  auto in_alphabet = [](unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  };
  size_t data_len = text.size();
  while (data_len > 0 && text[data_len - 1] == '=') --data_len;
  const size_t given_pad = text.size() - data_len;
  for (size_t i = 0; i < data_len; ++i) {
    if (!in_alphabet(static_cast<unsigned char>(text[i]))) return InvalidArgument("illegal base64 data");
  }
  // A lone final character cannot encode a byte. Padding may be given in full, in part or not at
  // all (SPEC §2.8: missing '=' padding is added first), but never more than the quantum needs.
  const size_t needed_pad = (4 - data_len % 4) % 4;
  if (data_len % 4 == 1 || given_pad > needed_pad) return InvalidArgument("illegal base64 data");
  if (data_len == 0) return std::string();
  std::string in(text.substr(0, data_len));
  while (in.size() % 4 != 0) in.push_back('=');
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return InvalidArgument("illegal base64 data");
  out.resize(static_cast<size_t>(n) - (in.size() - data_len));  // EVP counts padding as zero bytes
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
  // Not derived from `name`, so a 255-byte name still fits NAME_MAX.
  fs::path tmp = folder / (".codeq-tmp-" + std::to_string(gen()));
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
