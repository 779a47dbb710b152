#include "cli/output.h"

#include <algorithm>
#include <iostream>

#include "cli/cli_status.h"

namespace codeq::cli {

int ReportError(const Status& s) {
  std::cerr << "[ERROR] " << s.message() << std::endl;
  return ExitCodeFor(s);
}

void PrintJson(const boost::json::value& v) { std::cout << boost::json::serialize(v) << std::endl; }

void PrintTable(std::ostream& out, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t i = 0; i < width.size(); ++i) {
      std::string cell = i < cells.size() ? cells[i] : "";
      text += cell;
      if (i + 1 < width.size()) text += std::string(width[i] - cell.size() + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
  out.flush();
}

void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [k, v] : fields) {
    if (!v.empty()) width = std::max(width, k.size());
  }
  for (const auto& [k, v] : fields) {
    if (v.empty()) continue;
    out << k << ':' << std::string(width - k.size() + 2, ' ') << v << '\n';
  }
  out.flush();
}

std::string CellText(const boost::json::value* v) {
  if (v == nullptr || v->is_null()) return "";
  if (v->is_string()) return std::string(v->get_string());
  return boost::json::serialize(*v);
}

std::string Member(const boost::json::value& v, const char* key) {
  if (!v.is_object()) return "";
  return CellText(v.get_object().if_contains(key));
}

}  // namespace codeq::cli
