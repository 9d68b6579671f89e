#include "policy/facts.h"

namespace sigil::policy {
namespace {

constexpr std::string_view kKindNames[kKindCount] = {"eth_tx",      "eth_message", "eth_typed_data",
                                                     "nostr_event", "solana_tx",   "raw_digest"};
constexpr std::string_view kErc20MethodNames[] = {"transfer", "transferFrom", "approve"};

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

}  // namespace sigil::policy
