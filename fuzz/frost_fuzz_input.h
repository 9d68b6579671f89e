// Shared by the fuzz_frost_* targets: FROST's API takes parsed values
// (identifiers, elements, scalars) inside structs, so each target cuts its
// input into fixed-size fields with this reader and hands them to the
// functions that decode and check them. The layouts are documented per
// target; the seeds in corpus/frost_*/ follow them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>

#include "base/hex.h"
#include "crypto/frost.h"
#include "crypto/frost_group.h"

namespace sigil::crypto::frost::fuzzing {

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : rest_(data, size) {}

  // The next n bytes, or nullopt (and nothing consumed) if fewer remain.
  std::optional<std::span<const uint8_t>> Take(size_t n) {
    if (rest_.size() < n) return std::nullopt;
    auto out = rest_.first(n);
    rest_ = rest_.subspan(n);
    return out;
  }
  std::optional<Bytes> TakeBytes(size_t n) {
    auto s = Take(n);
    if (!s) return std::nullopt;
    return Bytes(s->begin(), s->end());
  }
  std::optional<uint8_t> Byte() {
    auto s = Take(1);
    if (!s) return std::nullopt;
    return (*s)[0];
  }
  // An identifier field (32 bytes), or nullopt if short or not an identifier.
  std::optional<Identifier> Id(Suite suite) {
    auto s = Take(32);
    if (!s) return std::nullopt;
    auto id = Identifier::Parse(suite, *s);
    if (!id.ok()) return std::nullopt;
    return *id;
  }
  std::span<const uint8_t> Rest() const { return rest_; }

 private:
  std::span<const uint8_t> rest_;
};

inline Suite SuiteOf(uint8_t flags) { return (flags & 1) ? Suite::kSecp256k1Sha256 : Suite::kEd25519Sha512; }

// The flags byte every target's input starts with; bit 0 picks the suite,
// the other bits are the target's.
struct Flags {
  uint8_t bits;
  Suite suite;
  const internal::Group* group;
};
inline std::optional<Flags> ReadFlags(Reader& in) {
  auto bits = in.Byte();
  if (!bits) return std::nullopt;
  const Suite suite = SuiteOf(*bits);
  return Flags{*bits, suite, &internal::GroupFor(suite)};
}

// A list: a count byte (count % 4 entries, so that a list stays cheap),
// then the entries, each read by `read_one(in)`, which returns false when
// the input runs out or an entry cannot be built. False if any did.
template <typename ReadOne>
bool ReadList(Reader& in, ReadOne read_one) {
  auto count = in.Byte();
  if (!count) return false;
  for (int k = 0; k < *count % 4; ++k) {
    if (!read_one(in)) return false;
  }
  return true;
}

// A literal in a fuzz target; a bad one is a bug in the target.
inline Bytes Literal(std::string_view hex) {
  auto bytes = HexDecode(hex);
  if (!bytes.ok()) std::abort();
  return *bytes;
}

// An invariant of the code under test is broken: crash so libFuzzer keeps the input.
inline void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace sigil::crypto::frost::fuzzing
