#include "domain/file_text.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace codeq {

Result<std::string> ReadFileText(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (st.type() == std::filesystem::file_type::not_found) return NotFound(path + ": file not found");
  if (st.type() == std::filesystem::file_type::directory) return InvalidArgument(path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable(path + ": cannot read file: " + std::strerror(errno));
  try {
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return Unavailable(path + ": cannot read file");
    return text;
  } catch (const std::exception& e) {  // libstdc++'s filebuf throws on read errors (EISDIR, EIO)
    return Unavailable(path + ": cannot read file: " + e.what());
  }
}

}  // namespace codeq
