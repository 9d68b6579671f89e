#include "keystore/tpm2/rollback_counter.h"

#include <cstdio>
#include <optional>
#include <vector>

#include "base/secret.h"
#include "base/status.h"
#include "crypto/hash.h"
#include "crypto/kdf.h"

namespace sigil::keystore::tpm2 {
namespace {

std::string IndexHex(uint32_t nv_index) {
  char hex[16];
  std::snprintf(hex, sizeof(hex), "0x%08X", nv_index);
  return hex;
}

std::vector<uint8_t> Payload(uint32_t nv_index, uint64_t value) {
  std::vector<uint8_t> out;
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(nv_index >> (8 * i)));
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
  return out;
}

std::vector<uint8_t> Record(const SecretBytes& mac_key, uint32_t nv_index, uint64_t value) {
  std::vector<uint8_t> payload = Payload(nv_index, value);
  crypto::Hash256 mac = crypto::HmacSha256(mac_key.Reveal(SecretAccess::Get()), payload);
  std::vector<uint8_t> out(payload.begin() + 4, payload.end());
  out.insert(out.end(), mac.begin(), mac.end());
  return out;
}

absl::StatusOr<uint64_t> ParseRecord(const SecretBytes& mac_key, uint32_t nv_index, const std::vector<uint8_t>& rec) {
  if (rec.size() != 8 + 32) return absl::DataLossError("the rollback counter record in the store is malformed");
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | rec[static_cast<size_t>(i)];
  std::vector<uint8_t> expected = Record(mac_key, nv_index, value);
  if (!ConstantTimeEquals(expected, rec)) {
    return absl::DataLossError("the rollback counter record in the store fails its MAC: it was edited, or belongs to "
                               "another keystore or NV index");
  }
  return value;
}

}  // namespace

absl::StatusOr<uint64_t> RollbackCounter::CheckAndAdvance(Tpm2Device& tpm, store::Store& store, uint32_t nv_index,
                                                          const SecretBytes& master_key) {
  ASSIGN_OR_RETURN(SecretBytes mac_key, crypto::HkdfSha256(master_key, {}, "sigil-tpm-rollback-v1", 32));
  ASSIGN_OR_RETURN(std::optional<store::Bytes> row, store.Get(kTable, kRow));
  absl::StatusOr<uint64_t> tpm_value = tpm.ReadCounter(nv_index);
  if (!tpm_value.ok() && !absl::IsNotFound(tpm_value.status())) return tpm_value.status();

  if (!row) {
    if (tpm_value.ok()) {
      return absl::FailedPreconditionError(
          "rollback detected: the TPM counter " + IndexHex(nv_index) + " exists (value " +
          std::to_string(*tpm_value) +
          ") but this data directory has no record of it: it is older than the counter, or another data directory "
          "uses the index. If you deliberately re-created the data directory, remove the counter with "
          "`tpm2_nvundefine " + IndexHex(nv_index) + " -C o` (doc/tpm.md)");
    }
    // First use: the TPM starts a new counter at its highest value ever.
    ASSIGN_OR_RETURN(uint64_t first, tpm.IncrementCounter(nv_index));
    RETURN_IF_ERROR(store.Put(kTable, kRow, Record(mac_key, nv_index, first)));
    return first;
  }
  ASSIGN_OR_RETURN(uint64_t stored, ParseRecord(mac_key, nv_index, *row));
  if (!tpm_value.ok()) {
    return absl::FailedPreconditionError("the TPM rollback counter " + IndexHex(nv_index) +
                                         " is gone (the TPM was cleared, or this is another TPM); the data directory "
                                         "cannot be checked for rollback");
  }
  const uint64_t t = *tpm_value;
  if (stored != t && stored != t + 1) {
    return absl::FailedPreconditionError(
        "rollback detected: the data directory was last used at TPM counter " + std::to_string(stored) +
        " but the TPM counter " + IndexHex(nv_index) + " is at " + std::to_string(t) +
        ": an older copy of the data directory was restored (or another data directory shares the counter). "
        "Refusing to start; restore the newest copy");
  }
  // Write-ahead: the store learns the next value before the TPM moves.
  RETURN_IF_ERROR(store.Put(kTable, kRow, Record(mac_key, nv_index, t + 1)));
  ASSIGN_OR_RETURN(uint64_t next, tpm.IncrementCounter(nv_index));
  if (next != t + 1) {
    return absl::FailedPreconditionError("the TPM counter " + IndexHex(nv_index) + " moved to " +
                                         std::to_string(next) + " instead of " + std::to_string(t + 1) +
                                         ": another process uses it");
  }
  return next;
}

}  // namespace sigil::keystore::tpm2
