// Fuzzes the strict RLP decoder: it must never crash, and every input it
// accepts must be canonical (re-encoding gives the input back).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "chains/ethereum/rlp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  sigil::eth::RlpLimits limits;
  auto item = sigil::eth::RlpDecode(in, limits);
  if (!item.ok()) return 0;
  sigil::Bytes again = sigil::eth::RlpEncode(*item);
  if (again.size() != size || !std::equal(again.begin(), again.end(), in.begin())) std::abort();
  if (sigil::eth::RlpEncodedSize(*item) != size) std::abort();
  return 0;
}
