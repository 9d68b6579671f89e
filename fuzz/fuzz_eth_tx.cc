// Fuzzes the transaction decoders and the JSON request parser. None may
// crash; whatever one accepts must round-trip:
//   ParseUnsigned(x) ok  => EncodeUnsigned() == x
//   ParseSigned(x) ok    => Encode() == x, and RecoverSender does not crash
//   FromJson(x) ok       => FromJson(ToJson(tx)) == tx, and the unsigned
//                           encoding parses back to the same tx.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "chains/ethereum/transaction.h"
#include "chains/ethereum/transaction_request.h"
#include "nlohmann/json.hpp"

namespace {

bool Same(const sigil::Bytes& a, std::span<const uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sigil::eth;
  std::span<const uint8_t> in(data, size);
  ParseOptions options;
  options.allow_pre_eip155 = size > 0 && (data[size - 1] & 1);

  if (auto tx = Transaction::ParseUnsigned(in, options); tx.ok()) {
    if (!Same(tx->EncodeUnsigned(), in)) std::abort();
    (void)tx->SigningHash();
    (void)tx->MaxCost();
    (void)ToJson(*tx).dump();
  }
  if (auto stx = SignedTransaction::Parse(in, options); stx.ok()) {
    if (!Same(stx->Encode(), in)) std::abort();
    (void)stx->RecoverSender();
    (void)ToJson(*stx).dump();
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto tx = TransactionFromJson(text, options); tx.ok()) {
    auto again = TransactionFromJson(ToJson(*tx), options);
    if (!again.ok() || !(*again == *tx)) std::abort();
    auto reparsed = Transaction::ParseUnsigned(tx->EncodeUnsigned(), options);
    if (!reparsed.ok() || !(*reparsed == *tx)) std::abort();
  }
  return 0;
}
