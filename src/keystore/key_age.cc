#include "keystore/key_age.h"

#include <algorithm>

#include "base/status.h"

namespace sigil::keystore {

absl::StatusOr<std::vector<KeyInfo>> KeysOlderThan(KeyStore& keystore, const Clock& clock, absl::Duration max_age) {
  if (max_age <= absl::ZeroDuration()) return absl::InvalidArgumentError("maximum key age must be positive");
  ASSIGN_OR_RETURN(std::vector<KeyInfo> all, keystore.List());
  const absl::Time cutoff = clock.Now() - max_age;
  std::vector<KeyInfo> out;
  for (KeyInfo& info : all) {
    // Signing keys only: Sigil's own keys do not rotate (SoftwareKeyStore::Rotate).
    if (info.status == KeyStatus::kActive && info.purpose == KeyPurpose::kSigning && info.created_at < cutoff) {
      out.push_back(std::move(info));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const KeyInfo& a, const KeyInfo& b) { return a.created_at < b.created_at; });
  return out;
}

}  // namespace sigil::keystore
