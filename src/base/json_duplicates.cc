#include "base/json_duplicates.h"

namespace sigil {

absl::Status DuplicateKeyError(const JsonDuplicateKey& d, std::string_view what) {
  return absl::InvalidArgumentError(std::string(what) + " has a duplicate key \"" + d.key +
                                    "\" (JSON keeps only one of the two; send each name once)");
}

}  // namespace sigil
