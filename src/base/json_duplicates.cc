#include "base/json_duplicates.h"

namespace sigil {

std::string DuplicateKeyMessage(const JsonDuplicateKey& d, std::string_view what) {
  return std::string(what) + " has a duplicate key \"" + d.key + "\" (JSON keeps only one of the two; send each name once)";
}

}  // namespace sigil
