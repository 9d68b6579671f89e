// Test helper: reads a worked example out of a page in doc/, so a test can
// check the page against the code. An example is the fenced code block that
// follows a line `<!-- example: NAME -->`.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/hex.h"
#include "gtest/gtest.h"

namespace sigil {

// The text inside the example's code fence (without the fence lines), or ""
// with a test failure if the page or the example is missing.
inline std::string DocExample(const std::string& page, const std::string& name) {
  std::ifstream in(std::string(SIGIL_SOURCE_DIR) + "/doc/" + page);
  EXPECT_TRUE(in.good()) << "cannot read doc/" << page;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const std::string marker = "<!-- example: " + name + " -->";
  size_t at = text.find(marker);
  EXPECT_NE(at, std::string::npos) << "doc/" << page << " has no example " << name;
  if (at == std::string::npos) return "";
  size_t fence = text.find("```", at);
  size_t body = text.find('\n', fence) + 1;
  size_t end = text.find("\n```", body);
  EXPECT_NE(end, std::string::npos);
  return text.substr(body, end - body);
}

// An annotated hex dump: on each line, everything after '#' is a comment and
// whitespace is ignored.
inline Bytes AnnotatedHex(const std::string& block) {
  std::string hex;
  std::istringstream lines(block);
  for (std::string line; std::getline(lines, line);) {
    line = line.substr(0, line.find('#'));
    for (char c : line) {
      if (!isspace(static_cast<unsigned char>(c))) hex.push_back(c);
    }
  }
  auto bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << "example is not hex";
  return bytes.ok() ? *bytes : Bytes{};
}

}  // namespace sigil
