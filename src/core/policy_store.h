// PolicyStore: the versioned, sealed history of applied policy documents.
//
// Each applied document is stored in the `policies` table under its version
// number, sealed with XChaCha20-Poly1305 under the state key (derived from the
// master key) with associated data "policies:<version>", so a row edited or
// swapped on disk fails to open and the daemon refuses to start, naming it.
// Applying validates the whole document first; an invalid one is rejected
// with field-precise errors and the policy in force stays.
//
// Thread-safety: thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/clock.h"
#include "base/secret.h"
#include "policy/policy.h"
#include "store/store.h"

namespace sigil::core {

struct AppliedPolicy {
  uint64_t version = 0;  // 1, 2, ... (0: the built-in deny-all default)
  std::string hash_hex;  // SHA-256 of the canonical document
  std::string applied_by;
  int64_t applied_at_ms = 0;
  std::string document;  // as applied
  std::shared_ptr<const policy::Policy> policy;
};

class PolicyStore {
 public:
  static constexpr char kTable[] = "policies";
  // Loads the latest version. DataLoss naming the row if any row fails to
  // authenticate; with no rows, the deny-all default (version 0) is current.
  static absl::StatusOr<std::unique_ptr<PolicyStore>> Open(store::Store& store, SecretBytes state_key,
                                                           const Clock& clock);

  // Parses and persists a new version. InvalidArgument listing every error
  // (path, line, column) if the document is invalid; nothing changes then.
  absl::StatusOr<AppliedPolicy> Apply(const std::string& document, const std::string& principal);
  AppliedPolicy Current() const;

 private:
  PolicyStore(store::Store& store, SecretBytes state_key, const Clock& clock)
      : store_(store), state_key_(std::move(state_key)), clock_(clock) {}

  store::Store& store_;
  const SecretBytes state_key_;
  const Clock& clock_;
  mutable absl::Mutex mu_;
  AppliedPolicy current_ ABSL_GUARDED_BY(mu_);
};

// The document in force before any policy is applied: no rule, so every
// request is denied ("no rule allows this request").
inline constexpr char kDefaultPolicy[] = R"({"version": 1, "rules": []})";

}  // namespace sigil::core
