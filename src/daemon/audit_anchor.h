// AuditAnchorStore: the daemon's memory of its audit log, kept in the store
// so that a log deleted, replaced, cut back or rewritten while the daemon
// was stopped is refused at the next start (audit/audit_log.h LogAnchor,
// doc/audit-log.md §6). The log alone cannot tell: a file cut back to an
// earlier checkpoint, or a new one, replays cleanly.
//
// Table "audit_anchor", row "latest": log id (16) || size (8, big-endian) ||
// root (32) || HMAC-SHA256 over "sigil-audit-anchor-v1" and those 56 bytes,
// under a key the daemon derives from its state key, so the row cannot be
// edited to match a cut log. Like every state in the data directory, it does
// not detect the whole directory restored from an older copy (the TPM
// rollback counter does, doc/tpm.md).
//
// Thread-compatible: the daemon saves at start, from its housekeeping thread
// and at stop, never two at once.
#pragma once

#include <optional>

#include "absl/status/statusor.h"
#include "audit/audit_log.h"
#include "base/secret.h"
#include "store/store.h"

namespace sigil::daemon {

class AuditAnchorStore {
 public:
  static constexpr char kTable[] = "audit_anchor";
  static constexpr char kRow[] = "latest";

  // `mac_key`: 32 secret bytes of the daemon's (never the state key itself).
  AuditAnchorStore(store::Store& store, SecretBytes mac_key);

  // The anchor last saved; nullopt if none was (a new data directory, or
  // one from before anchors). DataLoss if the row is malformed or fails its
  // MAC; the store's errors otherwise.
  absl::StatusOr<std::optional<audit::LogAnchor>> Load();

  // Saves `anchor` unless it is the one last saved or loaded here.
  absl::Status Save(const audit::LogAnchor& anchor);

 private:
  store::Store& store_;
  SecretBytes mac_key_;
  std::optional<audit::LogAnchor> last_;
};

}  // namespace sigil::daemon
