#include "keystore/backup_share.h"

#include <cctype>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/hex.h"
#include "crypto/hash.h"

namespace sigil::keystore {
namespace {

constexpr std::string_view kMagicLine = "sigil-backup-share";
constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Checksum(std::span<const uint8_t> text) {
  crypto::Hash256 h = crypto::Sha256(text);
  return HexEncode(std::span<const uint8_t>(h).first(4));
}

absl::Status Malformed(const std::string& why) {
  return absl::InvalidArgumentError("not a valid Sigil backup share file: " + why);
}

bool ParseSmallInt(std::string_view text, int* out) {
  if (text.empty() || text.size() > 3) return false;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (text.size() > 1 && text[0] == '0') return false;  // one spelling per number
  *out = v;
  return true;
}

}  // namespace

SecretBytes EncodeBackupShare(const BackupShare& share) {
  const std::string head = std::string(kMagicLine) + " " + std::to_string(kBackupShareFormatVersion) + "\n" +
                           "backup-id " + HexEncode(share.backup_id) + "\n" +
                           "threshold " + std::to_string(share.threshold) + "\n" +
                           "count " + std::to_string(share.count) + "\n" +
                           "index " + std::to_string(share.share.index) + "\n" + "share ";
  const auto bytes = share.share.bytes.Reveal(SecretAccess::Get());
  const size_t body = head.size() + 2 * bytes.size() + 1;  // + hex + "\n"
  const size_t total = body + std::string_view("checksum ").size() + 8 + 1;
  // The share is written as hex straight into locked memory.
  SecretBytes out = SecretBytes::Zeroed(total);
  auto w = out.RevealMutable(SecretAccess::Get());
  size_t pos = 0;
  auto put = [&](std::string_view s) {
    std::memcpy(w.data() + pos, s.data(), s.size());
    pos += s.size();
  };
  put(head);
  for (uint8_t b : bytes) {
    w[pos++] = static_cast<uint8_t>(kHexDigits[b >> 4]);
    w[pos++] = static_cast<uint8_t>(kHexDigits[b & 15]);
  }
  put("\n");
  const std::string checksum = Checksum(w.first(body));
  put("checksum " + checksum + "\n");
  return out;
}

absl::StatusOr<BackupShare> DecodeBackupShare(const SecretBytes& file) {
  if (file.size() > kMaxBackupShareFileSize) {
    return Malformed("it is " + std::to_string(file.size()) + " bytes (a share file is under 300)");
  }
  const std::string_view text = file.RevealText(SecretAccess::Get());
  // Split into lines, accepting \n or \r\n and an optional final newline.
  std::vector<std::string_view> lines;
  std::vector<size_t> line_ends;  // offset just past each line's newline
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    line_ends.push_back(start);
  }
  static const char* const kKeys[] = {"sigil-backup-share", "backup-id", "threshold", "count",
                                      "index",              "share",     "checksum"};
  if (lines.size() != 7) return Malformed("expected 7 lines, found " + std::to_string(lines.size()));
  std::vector<std::string_view> values;
  for (size_t i = 0; i < 7; ++i) {
    size_t space = lines[i].find(' ');
    if (space == std::string_view::npos || lines[i].substr(0, space) != kKeys[i]) {
      return Malformed("line " + std::to_string(i + 1) + " should start with '" + kKeys[i] + " '");
    }
    values.push_back(lines[i].substr(space + 1));
  }
  int format = 0;
  if (!ParseSmallInt(values[0], &format)) return Malformed("the format version is not a number");
  if (format != kBackupShareFormatVersion) {
    return absl::FailedPreconditionError("backup share format version " + std::to_string(format) +
                                         " is not one this Sigil reads (it reads " +
                                         std::to_string(kBackupShareFormatVersion) + "); upgrade Sigil");
  }
  // The checksum covers the six lines as written (including \r if present).
  const std::string expected = Checksum(AsBytes(text.substr(0, line_ends[5])));
  std::string given(values[6]);
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (given != expected) {
    return absl::DataLossError("backup share file is damaged or mistyped: its checksum does not match");
  }

  BackupShare out;
  auto id = HexDecode(values[1]);
  if (!id.ok() || id->size() != out.backup_id.size()) return Malformed("backup-id is not 32 hex digits");
  std::copy(id->begin(), id->end(), out.backup_id.begin());
  int index = 0;
  if (!ParseSmallInt(values[2], &out.threshold) || !ParseSmallInt(values[3], &out.count) ||
      !ParseSmallInt(values[4], &index)) {
    return Malformed("threshold, count and index must be numbers");
  }
  if (out.threshold < 2 || out.count < out.threshold || out.count > kMaxShares || index < 1 || index > out.count) {
    return Malformed("needs 2 <= threshold <= count <= 255 and 1 <= index <= count");
  }
  out.share.index = static_cast<uint8_t>(index);
  const std::string_view hex = values[5];
  if (hex.empty() || hex.size() % 2 != 0 || hex.size() > 128) return Malformed("the share is not hex");
  out.share.bytes = SecretBytes::Zeroed(hex.size() / 2);
  auto bytes = out.share.bytes.RevealMutable(SecretAccess::Get());
  for (size_t i = 0; i < bytes.size(); ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Malformed("the share is not hex");
    bytes[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return out;
}

}  // namespace sigil::keystore
