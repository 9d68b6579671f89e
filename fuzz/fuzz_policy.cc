// Fuzzes the policy parser (the document is untrusted input from an
// operator's file or the REST API), evaluation of whatever parses, and the
// test-case parser. Nothing may crash, hang or overflow.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/policy.h"
#include "policy/policy_cases.h"

namespace {

using namespace sigil::policy;

Facts SampleFacts(Kind kind) {
  Facts f;
  f.kind = kind;
  f.key = "trader";
  f.agent = "bot-1";
  f.chain_id = 1;
  f.to = "0x1111111111111111111111111111111111111111";
  f.value = sigil::Uint256::Max();
  f.max_fee_per_gas = sigil::Uint256(30000000000ull);
  f.method_selector = "0xa9059cbb";
  f.has_calldata = true;
  f.erc20 = Erc20Facts{"0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", Erc20Method::kApprove, std::nullopt,
                       "0x2222222222222222222222222222222222222222", sigil::Uint256::Max(), true};
  f.nostr = NostrFacts{1, {{"p", "aa"}, {"t"}, {}}};
  f.solana = SolanaFacts{{"11111111111111111111111111111111"},
                         {SolanaTransfer{"11111111111111111111111111111111", "Dest", sigil::Uint256(5), std::nullopt}}};
  f.risk_score = 50;
  f.time = absl::FromUnixSeconds(1767614400);
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = Policy::Parse(text);
  if (policy.ok()) {
    for (int k = 0; k < kKindCount; ++k) {
      Decision d = policy->Evaluate(SampleFacts(static_cast<Kind>(k)));
      (void)DecisionToJson(d);
    }
  }
  auto cases = ParsePolicyCases(text);
  if (cases.ok() && cases->size() <= 4) {
    static const Policy kEmpty = Policy::Parse(R"({"version": 1, "rules": [{"id": "all", "effect": "allow"}]})").value();
    size_t priors = 0;
    for (const PolicyCase& c : *cases) {
      for (const auto& p : c.before) priors += p.count;
    }
    if (priors <= 64) (void)RunCases(kEmpty, *cases);
  }
  return 0;
}
