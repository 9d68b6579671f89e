// Fuzzes the EIP-712 parser: it must never crash; every document it accepts
// must re-parse from its canonical form (ToJson) to the same digest, and
// permit recognition must not crash on it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "chains/ethereum/permit.h"
#include "chains/ethereum/typed_data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto td = sigil::eth::TypedData::Parse(text);
  if (!td.ok()) return 0;
  auto again = sigil::eth::TypedData::Parse(td->ToJson().dump());
  if (!again.ok()) std::abort();
  if (again->Digest() != td->Digest() || again->DomainSeparator() != td->DomainSeparator()) std::abort();
  auto permit = sigil::eth::RecognizePermit(*td);
  auto permit_again = sigil::eth::RecognizePermit(*again);
  if (permit.has_value() != permit_again.has_value()) std::abort();
  if (permit && (permit->allowances.size() != permit_again->allowances.size() ||
                 permit->unlimited != permit_again->unlimited)) {
    std::abort();
  }
  return 0;
}
