// doc/policy.md is tested: every ```json example on the page is a policy
// that parses (or, when marked invalid, is refused with exactly the message
// the page shows), and the documented test cases pass against the
// documented policy.
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "policy/policy.h"
#include "policy/policy_cases.h"

namespace sigil::policy {
namespace {

struct Block {
  std::string marker;    // "example", "example: full", ... (the HTML comment before the block)
  std::string language;  // "json", "text"
  std::string body;
  int line = 0;
};

std::vector<Block> Blocks(const std::string& doc) {
  std::vector<Block> out;
  std::istringstream in(doc);
  std::string line, previous;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("```", 0) == 0 && line.size() > 3) {
      Block b;
      b.language = line.substr(3);
      b.line = n;
      if (previous.rfind("<!-- ", 0) == 0) b.marker = previous.substr(5, previous.size() - 9);
      while (std::getline(in, line)) {
        ++n;
        if (line.rfind("```", 0) == 0) break;
        b.body += line + "\n";
      }
      out.push_back(std::move(b));
    }
    previous = line;
  }
  return out;
}

TEST(PolicyDocTest, EveryExampleOnThePageIsRight) {
  std::ifstream file(std::string(SIGIL_SOURCE_DIR) + "/doc/policy.md");
  ASSERT_TRUE(file.good());
  std::stringstream ss;
  ss << file.rdbuf();
  std::vector<Block> blocks = Blocks(ss.str());
  std::optional<Policy> full;
  int policies = 0, cases_checked = 0, invalid_checked = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const Block& b = blocks[i];
    if (b.language != "json") continue;
    SCOPED_TRACE("doc/policy.md line " + std::to_string(b.line));
    ASSERT_FALSE(b.marker.empty()) << "every json block needs an <!-- example --> marker so it is tested";
    if (b.marker == "example" || b.marker == "example: full") {
      auto p = Policy::Parse(b.body);
      ASSERT_TRUE(p.ok()) << p.status();
      ++policies;
      if (b.marker == "example: full") full.emplace(std::move(p).value());
    } else if (b.marker == "example: invalid") {
      auto p = Policy::Parse(b.body);
      ASSERT_FALSE(p.ok());
      ASSERT_LT(i + 1, blocks.size());
      ASSERT_EQ(blocks[i + 1].language, "text") << "an invalid example is followed by its error";
      EXPECT_EQ(std::string(p.status().message()) + "\n", blocks[i + 1].body);
      ++invalid_checked;
    } else if (b.marker == "example: full-cases") {
      ASSERT_TRUE(full.has_value()) << "the cases come after the full example";
      auto cases = ParsePolicyCases(b.body);
      ASSERT_TRUE(cases.ok()) << cases.status();
      for (const CaseResult& r : RunCases(*full, *cases)) EXPECT_TRUE(r.passed) << r.name << ": " << r.failure;
      cases_checked += static_cast<int>(cases->size());
    } else {
      FAIL() << "unknown marker " << b.marker;
    }
  }
  EXPECT_GE(policies, 15);
  EXPECT_EQ(invalid_checked, 1);
  EXPECT_GE(cases_checked, 5);
}

}  // namespace
}  // namespace sigil::policy
