#include "policy/facts.h"

#include "chains/ethereum/permit.h"

namespace sigil::policy {
namespace {

constexpr std::string_view kKindNames[kKindCount] = {"eth_tx",      "eth_message", "eth_typed_data",
                                                     "nostr_event", "solana_tx",   "raw_digest"};
constexpr std::string_view kErc20MethodNames[] = {"transfer", "transferFrom", "approve"};

struct PermitKindEntry {
  std::string_view name;
  std::string_view family;
};
// Families first (each is its own family), then the variants the core
// reports: both derived from eth::PermitKind, so a new kind is never missing.
const std::vector<PermitKindEntry>& PermitKinds() {
  static const std::vector<PermitKindEntry> kinds = [] {
    std::vector<PermitKindEntry> out;
    auto add = [&out](std::string_view name, std::string_view family) {
      for (const PermitKindEntry& e : out) {
        if (e.name == name) return;
      }
      out.push_back(PermitKindEntry{name, family});
    };
    constexpr int kCount = static_cast<int>(eth::PermitKind::kCount);
    for (int i = 0; i < kCount; ++i) {
      std::string_view family = eth::PermitKindFamily(static_cast<eth::PermitKind>(i));
      add(family, family);
    }
    for (int i = 0; i < kCount; ++i) {
      auto kind = static_cast<eth::PermitKind>(i);
      add(eth::PermitKindName(kind), eth::PermitKindFamily(kind));
    }
    return out;
  }();
  return kinds;
}

}  // namespace

std::string_view KindName(Kind kind) { return kKindNames[static_cast<int>(kind)]; }

std::optional<Kind> ParseKind(std::string_view name) {
  for (int i = 0; i < kKindCount; ++i) {
    if (kKindNames[i] == name) return static_cast<Kind>(i);
  }
  return std::nullopt;
}

std::string_view Erc20MethodName(Erc20Method method) { return kErc20MethodNames[static_cast<int>(method)]; }

std::optional<Erc20Method> ParseErc20Method(std::string_view name) {
  for (int i = 0; i < 3; ++i) {
    if (kErc20MethodNames[i] == name) return static_cast<Erc20Method>(i);
  }
  return std::nullopt;
}

std::optional<Uint256> PermitLifetimeEnd(const PermitFacts& permit) {
  if (!permit.deadline) return std::nullopt;
  Uint256 end = *permit.deadline;
  for (const PermitAllowance& a : permit.allowances) {
    if (a.expiration && *a.expiration > end) end = *a.expiration;
  }
  return end;
}

std::optional<std::string_view> PermitKindFamily(std::string_view name) {
  for (const PermitKindEntry& e : PermitKinds()) {
    if (e.name == name) return e.family;
  }
  return std::nullopt;
}

std::string PermitKindNames() {
  std::string out;
  for (const PermitKindEntry& e : PermitKinds()) {
    if (!out.empty()) out += ", ";
    out += e.name;
  }
  return out;
}

std::vector<std::string_view> PermitKindsMatching(std::string_view name) {
  std::vector<std::string_view> out;
  if (!PermitKindFamily(name)) return out;
  out.push_back(name);
  for (const PermitKindEntry& e : PermitKinds()) {
    if (e.family == name && e.name != name) out.push_back(e.name);
  }
  return out;
}

}  // namespace sigil::policy
