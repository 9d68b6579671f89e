// Fuzzes the Solana message decoder: it must never crash, every accepted
// message must re-serialize to exactly the input (one encoding per message),
// and fact extraction must handle every accepted message.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "chains/solana/message.h"
#include "chains/solana/message_facts.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  auto m = sigil::solana::Message::Parse(in);
  if (!m.ok()) return 0;
  sigil::Bytes again = m->Serialize();
  if (again.size() != size || !std::equal(again.begin(), again.end(), in.begin())) std::abort();
  if (m->total_account_count() > 256 || m->account_keys().empty()) std::abort();
  for (size_t i = 0; i < m->total_account_count(); ++i) {
    auto ref = m->ResolveAccount(static_cast<uint8_t>(i));
    if (ref.key.has_value() == ref.lookup_table.has_value()) std::abort();
  }
  auto facts = sigil::solana::ExtractFacts(*m);
  if (facts.instruction_count != m->instructions().size()) std::abort();
  if (facts.unrecognized_instructions > facts.instruction_count) std::abort();
  return 0;
}
