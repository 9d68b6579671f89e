// Canonical Solidity ABI type names: the one validator behind function
// signatures hashed into selectors (policy `method` conditions) and EIP-712
// field types (typed_data.cc).
//
// Canonical means as hashed: no aliases (uint, int, byte, fixed, ufixed), the
// exact sizes Solidity allows, no spaces. A type that is not canonical would
// give a selector or type hash no contract computes, so it is refused with a
// message saying what is wrong.
//
// Stateless, thread-safe pure functions.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sigil::eth {

// An elementary (non-array, non-tuple) ABI type.
struct AbiElementaryType {
  enum class Kind { kAddress, kBool, kString, kBytes, kFixedBytes, kUint, kInt, kFunction, kFixed, kUfixed };
  Kind kind = Kind::kBool;
  unsigned size = 0;      // bits for kUint/kInt/kFixed/kUfixed (8..256, step 8); bytes for kFixedBytes (1..32)
  unsigned decimals = 0;  // N of fixedMxN / ufixedMxN (1..80)
};

// Parses one canonical elementary type: address, bool, string, bytes,
// function, uintN / intN (N from 8 to 256 in steps of 8), bytesN (1 to 32),
// fixedMxN / ufixedMxN (M as uintN, N from 1 to 80). InvalidArgument
// otherwise, naming the type and why (an alias names its canonical form).
absl::StatusOr<AbiElementaryType> ParseAbiElementaryType(std::string_view text);

// Checks a canonical parameter list as written in a function signature,
// "(T1,T2,...)" or "()": each T an elementary type, an array T[] / T[k]
// (k >= 1, no leading zeros) or a tuple (T1,...) of at least one component,
// nested at most 32 deep, and nothing after the closing parenthesis.
// InvalidArgument saying what is wrong.
absl::Status CheckAbiParameterList(std::string_view text);

}  // namespace sigil::eth
