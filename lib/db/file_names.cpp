#include "db/file_names.hpp"

#include <charconv>

#include <fmt/format.h>

namespace strata::db_internal {

std::string table_file_name(const std::string& dir, std::uint64_t number) {
  return fmt::format("{}/{:06}.sst", dir, number);
}
std::string manifest_file_name(const std::string& dir, std::uint64_t number) {
  return fmt::format("{}/MANIFEST-{:06}", dir, number);
}
std::string temp_file_name(const std::string& dir, std::uint64_t number) {
  return fmt::format("{}/{:06}.tmp", dir, number);
}
std::string current_file_name(const std::string& dir) { return dir + "/CURRENT"; }
std::string lock_file_name(const std::string& dir) { return dir + "/LOCK"; }

namespace {
bool parse_number(std::string_view digits, std::uint64_t& number) noexcept {
  if (digits.empty()) return false;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  return ec == std::errc{} && end == digits.data() + digits.size();
}
}  // namespace

file_kind parse_file_name(std::string_view name, std::uint64_t& number) noexcept {
  number = 0;
  if (name == "CURRENT") return file_kind::current;
  if (name == "LOCK") return file_kind::lock;
  if (name.starts_with("MANIFEST-"))
    return parse_number(name.substr(9), number) ? file_kind::manifest : file_kind::unknown;
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || !parse_number(name.substr(0, dot), number)) return file_kind::unknown;
  const std::string_view ext = name.substr(dot + 1);
  if (ext == "log") return file_kind::log;
  if (ext == "sst") return file_kind::table;
  if (ext == "tmp") return file_kind::temp;
  return file_kind::unknown;
}

}  // namespace strata::db_internal
