#include "core/policy_store.h"

#include <cstdio>

#include "base/hex.h"
#include "base/status.h"
#include "crypto/aead.h"
#include "nlohmann/json.hpp"

namespace sigil::core {
namespace {

std::string RowKey(uint64_t version) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%020llu", static_cast<unsigned long long>(version));
  return buf;
}

std::string AssociatedData(const std::string& row) { return std::string(PolicyStore::kTable) + ":" + row; }

absl::StatusOr<std::shared_ptr<const policy::Policy>> ParseOrExplain(
    const std::string& document, policy::ParseMode mode = policy::ParseMode::kStrict) {
  std::vector<policy::PolicyError> errors;
  auto parsed = policy::Policy::Parse(document, &errors, mode);
  if (!parsed.ok()) {
    std::string message = "invalid policy";
    if (errors.empty()) {
      message += ": " + std::string(parsed.status().message());
    } else {
      for (const auto& e : errors) message += "\n  " + e.ToString();
    }
    return absl::InvalidArgumentError(message);
  }
  return std::make_shared<const policy::Policy>(std::move(*parsed));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PolicyStore>> PolicyStore::Open(store::Store& store, SecretBytes state_key,
                                                               const Clock& clock) {
  std::unique_ptr<PolicyStore> ps(new PolicyStore(store, std::move(state_key), clock));
  ASSIGN_OR_RETURN(auto rows, store.Scan(kTable, {}));
  AppliedPolicy current;
  ASSIGN_OR_RETURN(current.policy, ParseOrExplain(kDefaultPolicy));
  current.document = kDefaultPolicy;
  current.hash_hex = current.policy->hash_hex();
  // Every row is authenticated, not just the latest: an edited old version
  // is tampering too.
  for (const auto& row : rows) {
    auto opened = crypto::AeadOpen(ps->state_key_, row.value, AsBytes(AssociatedData(row.key)));
    if (!opened.ok()) {
      return absl::DataLossError("policy row '" + row.key + "' failed authentication: the stored policy was altered");
    }
    auto doc = nlohmann::json::parse(opened->RevealText(SecretAccess::Get()), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) return absl::DataLossError("policy row '" + row.key + "' is malformed");
    AppliedPolicy p;
    p.version = doc.value("version", uint64_t{0});
    p.applied_by = doc.value("applied_by", "");
    p.applied_at_ms = doc.value("applied_at_ms", int64_t{0});
    p.document = doc.value("document", "");
    if (RowKey(p.version) != row.key) return absl::DataLossError("policy row '" + row.key + "' holds another version");
    // Applied by an earlier release: what it accepted still loads (a policy
    // applied now is checked strictly, in Apply).
    auto parsed = ParseOrExplain(p.document, policy::ParseMode::kStored);
    if (!parsed.ok()) return absl::DataLossError("policy row '" + row.key + "' no longer parses: " + std::string(parsed.status().message()));
    p.policy = *parsed;
    p.hash_hex = p.policy->hash_hex();
    if (p.version > current.version) current = std::move(p);
  }
  absl::MutexLock lock(&ps->mu_);
  ps->current_ = std::move(current);
  return ps;
}

absl::StatusOr<AppliedPolicy> PolicyStore::Apply(const std::string& document, const std::string& principal) {
  if (document.size() > (8u << 20)) return absl::InvalidArgumentError("policy document is larger than 8 MiB");
  ASSIGN_OR_RETURN(auto parsed, ParseOrExplain(document));
  absl::MutexLock lock(&mu_);
  AppliedPolicy p;
  p.version = current_.version + 1;
  p.applied_by = principal;
  p.applied_at_ms = clock_.NowUnixMillis();
  p.document = document;
  p.policy = std::move(parsed);
  p.hash_hex = p.policy->hash_hex();
  nlohmann::json row = {{"version", p.version}, {"applied_by", p.applied_by}, {"applied_at_ms", p.applied_at_ms},
                        {"document", p.document}};
  std::string key = RowKey(p.version);
  std::string text = row.dump();
  ASSIGN_OR_RETURN(auto sealed, crypto::AeadSeal(state_key_, AsBytes(text), AsBytes(AssociatedData(key))));
  RETURN_IF_ERROR(store_.Put(kTable, key, sealed));
  current_ = p;
  return p;
}

AppliedPolicy PolicyStore::Current() const {
  absl::MutexLock lock(&mu_);
  return current_;
}

}  // namespace sigil::core
