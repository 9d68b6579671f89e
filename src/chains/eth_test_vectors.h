// Shared helpers for the eth_* tests: reading the official vectors.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "nlohmann/json.hpp"

namespace sigil::eth::testing {

inline nlohmann::json LoadVectors(const std::string& relative) {
  std::ifstream in(std::string(SIGIL_VECTORS_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return nlohmann::json::parse(ss.str());
}

}  // namespace sigil::eth::testing
