// Fuzzes FROST's group element and scalar decoding (DeserializeElement and
// DeserializeScalar of RFC 9591 §6.1 / §6.5), both ciphersuites. Input: one
// flags byte (bit 0: secp256k1, else Ed25519; bit 1: decode as a scalar,
// else as an element), then the encoding.
//
// An accepted element must have the suite's size and re-encode to the input
// (element * 1 and the one-term sum go through the library's decode and
// encode), and must not be the identity (element + (-element) fails). An
// accepted scalar must be 32 bytes, re-encode to the input, and be below
// the order (s + 0 == s; s + (-s) == 0).
#include <cstddef>
#include <cstdint>

#include "frost_fuzz_input.h"

using namespace sigil::crypto::frost;
using namespace sigil::crypto::frost::fuzzing;

namespace {

bool Same(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

void CheckElement(const internal::Group& g, std::span<const uint8_t> encoded) {
  if (!g.ValidateElement(encoded).ok()) return;
  Require(encoded.size() == g.ElementSize());
  const internal::Element element(encoded.begin(), encoded.end());
  auto times_one = g.Mul(element, g.ScalarFromUint64(1));
  Require(times_one.ok() && Same(*times_one, encoded));
  const internal::Element one_term[] = {element};
  auto sum = g.Sum(one_term);
  Require(sum.ok() && Same(*sum, encoded));
  auto negated = g.Mul(element, g.Negate(g.ScalarFromUint64(1)));
  Require(negated.ok() && g.ValidateElement(*negated).ok());
  const internal::Element opposite[] = {element, *negated};
  Require(!g.Sum(opposite).ok());
}

void CheckScalar(const internal::Group& g, std::span<const uint8_t> encoded) {
  auto s = g.ParseScalar(encoded);
  Require(s.ok() == g.IsCanonicalScalar(encoded));
  if (!s.ok()) return;
  Require(encoded.size() == 32 && Same(s->bytes, encoded));
  Require(Same(g.Add(*s, internal::Scalar()).bytes, encoded));
  Require(g.IsZero(g.Add(*s, g.Negate(*s))));
  Require(g.ParseScalar(g.Negate(*s).bytes).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  auto flags = ReadFlags(in);
  if (!flags) return 0;
  if (flags->bits & 2) {
    CheckScalar(*flags->group, in.Rest());
  } else {
    CheckElement(*flags->group, in.Rest());
  }
  return 0;
}
