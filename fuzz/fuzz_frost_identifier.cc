// Fuzzes FROST participant identifier parsing (Identifier::Parse), both
// ciphersuites. Input: one flags byte (bit 0: secp256k1, else Ed25519),
// then the encoding. Every accepted identifier must be exactly 32 bytes,
// nonzero, re-encode to the input (SerializeScalar is canonical), name
// itself consistently (ToString's decimal form is the integer it encodes)
// and order consistently against a small identifier.
#include <cstddef>
#include <cstdint>
#include <string>

#include "frost_fuzz_input.h"

using namespace sigil::crypto::frost;
using namespace sigil::crypto::frost::fuzzing;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  auto flags = ReadFlags(in);
  if (!flags) return 0;
  const Suite suite = flags->suite;
  const std::span<const uint8_t> encoded = in.Rest();
  auto id = Identifier::Parse(suite, encoded);
  if (!id.ok()) return 0;

  Require(encoded.size() == 32);
  Require(std::equal(id->bytes().begin(), id->bytes().end(), encoded.begin(), encoded.end()));
  Require(id->suite() == suite);
  Require(!internal::GroupFor(suite).IsZero(internal::ScalarOf(*id)));

  const std::string name = id->ToString();
  Require(!name.empty());
  if (name.rfind("0x", 0) != 0) {
    // Decimal: the identifier fits 64 bits and FromInteger gives it back.
    auto again = Identifier::FromInteger(suite, std::stoull(name));
    Require(again.ok() && *again == *id);
  }

  auto one = Identifier::FromInteger(suite, 1);
  Require(one.ok());
  Require(!(*id < *id));
  Require(!(*id < *one));  // 1 is the smallest identifier
  Require((*one < *id) == !(*one == *id));
  return 0;
}
