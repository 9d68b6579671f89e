#include "store/store.h"

#include <string>

namespace sigil::store {

absl::Status ValidateTableName(std::string_view table) {
  if (table.empty() || table.size() > kMaxTableNameSize) {
    return absl::InvalidArgumentError("store: table name must be 1 to " + std::to_string(kMaxTableNameSize) +
                                 " characters, got " + std::to_string(table.size()));
  }
  bool ok = table[0] >= 'a' && table[0] <= 'z';
  for (char c : table) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  if (!ok) {
    // Only printable names reach this message: anything else is reported by position.
    return absl::InvalidArgumentError(
        "store: table name must be lower-case letters, digits and '_', starting with a letter");
  }
  return absl::OkStatus();
}

absl::Status ValidateKey(std::string_view table, std::string_view key) {
  if (auto st = ValidateTableName(table); !st.ok()) return st;
  if (key.empty() || key.size() > kMaxKeySize) {
    return absl::InvalidArgumentError("store: key in table '" + std::string(table) + "' must be 1 to " +
                                 std::to_string(kMaxKeySize) + " bytes, got " + std::to_string(key.size()));
  }
  return absl::OkStatus();
}

absl::Status ValidateValue(std::string_view table, std::string_view key, std::span<const uint8_t> value) {
  if (auto st = ValidateKey(table, key); !st.ok()) return st;
  if (value.size() > kMaxValueSize) {
    return absl::InvalidArgumentError("store: value in table '" + std::string(table) + "' is " +
                                 std::to_string(value.size()) + " bytes; the limit is " +
                                 std::to_string(kMaxValueSize));
  }
  return absl::OkStatus();
}

std::optional<std::string> PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<uint8_t>(s.back()) == 0xff) s.pop_back();
  if (s.empty()) return std::nullopt;
  s.back() = static_cast<char>(static_cast<uint8_t>(s.back()) + 1);
  return s;
}

bool ScanSelects(const ScanOptions& options, std::string_view key) {
  if (key.substr(0, options.prefix.size()) != options.prefix) return false;
  if (!options.start_after.empty() && !(key > std::string_view(options.start_after))) return false;
  return true;
}

}  // namespace sigil::store
