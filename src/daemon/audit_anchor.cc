#include "daemon/audit_anchor.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"

namespace sigil::daemon {
namespace {

constexpr std::string_view kDomain = "sigil-audit-anchor-v1";
constexpr size_t kPayloadSize = 16 + 8 + 32;
constexpr size_t kRowSize = kPayloadSize + 32;

std::vector<uint8_t> Payload(const audit::LogAnchor& a) {
  std::vector<uint8_t> out(a.log_id.begin(), a.log_id.end());
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(a.size >> (8 * i)));
  out.insert(out.end(), a.root.begin(), a.root.end());
  return out;
}

crypto::Hash256 Mac(const SecretBytes& key, std::span<const uint8_t> payload) {
  std::vector<uint8_t> message(kDomain.begin(), kDomain.end());
  message.insert(message.end(), payload.begin(), payload.end());
  return crypto::HmacSha256(key.Reveal(SecretAccess::Get()), message);
}

}  // namespace

AuditAnchorStore::AuditAnchorStore(store::Store& store, SecretBytes mac_key)
    : store_(store), mac_key_(std::move(mac_key)) {}

absl::StatusOr<std::optional<audit::LogAnchor>> AuditAnchorStore::Load() {
  ASSIGN_OR_RETURN(std::optional<store::Bytes> row, store_.Get(kTable, kRow));
  if (!row) return std::nullopt;
  if (row->size() != kRowSize) return absl::DataLossError("the audit log anchor in the store is malformed");
  const std::span<const uint8_t> payload(row->data(), kPayloadSize);
  const crypto::Hash256 mac = Mac(mac_key_, payload);
  if (!ConstantTimeEquals(mac, std::span<const uint8_t>(row->data() + kPayloadSize, 32))) {
    return absl::DataLossError(
        "the audit log anchor in the store fails its MAC: it was edited, or belongs to another keystore");
  }
  audit::LogAnchor a;
  std::copy_n(payload.begin(), 16, a.log_id.begin());
  for (size_t i = 16; i < 24; ++i) a.size = (a.size << 8) | payload[i];
  std::copy_n(payload.begin() + 24, 32, a.root.begin());
  last_ = a;
  return a;
}

absl::Status AuditAnchorStore::Save(const audit::LogAnchor& anchor) {
  if (last_ == anchor) return absl::OkStatus();
  std::vector<uint8_t> row = Payload(anchor);
  const crypto::Hash256 mac = Mac(mac_key_, row);
  row.insert(row.end(), mac.begin(), mac.end());
  RETURN_IF_ERROR(store_.Put(kTable, kRow, row));
  last_ = anchor;
  return absl::OkStatus();
}

}  // namespace sigil::daemon
