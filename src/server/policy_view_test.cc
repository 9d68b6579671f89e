#include "server/policy_view.h"

#include <gtest/gtest.h>

namespace sigil::server {
namespace {

using nlohmann::json;

constexpr char kPolicy[] = R"({
  "version": 1,
  "lists": { "bot1_payees": ["0x1111111111111111111111111111111111111111"],
             "bot2_payees": ["0x2222222222222222222222222222222222222222"],
             "blocked": ["0x000000000000000000000000000000000000dEaD"],
             "bots": ["bot-1", "bot-3"],
             "vault_keys": ["vault"] },
  "rules": [
    { "id": "no-blocked", "effect": "deny", "match": { "kind": "eth_tx", "to": { "in": "@blocked" } } },
    { "id": "bot1-pay", "effect": "allow", "agents": ["bot-1"],
      "match": { "kind": "eth_tx", "chain_id": 1, "to": { "in": ["@bot1_payees", "0x3333333333333333333333333333333333333333"] } } },
    { "id": "bot2-pay", "effect": "allow", "agents": ["bot-2"],
      "match": { "kind": "eth_tx", "chain_id": 1, "to": { "in": "@bot2_payees" } } },
    { "id": "bots-msg", "effect": "allow", "agents": "@bots", "match": { "kind": "eth_message" } },
    { "id": "vault-only", "effect": "allow", "keys": "@vault_keys", "match": { "kind": "eth_message" } }
  ]
})";

struct Fixture {
  json doc = json::parse(kPolicy);
  policy::Policy parsed = *policy::Policy::Parse(kPolicy);
};

std::vector<std::string> Ids(const PolicyView& v) {
  std::vector<std::string> out;
  for (const json& r : v.rules) out.push_back(r["id"]);
  return out;
}

std::vector<std::string> ListNames(const PolicyView& v) {
  std::vector<std::string> out;
  for (const auto& [name, list] : v.lists.items()) out.push_back(name);
  return out;
}

tokens::Principal Agent(std::string name, std::vector<std::string> keys) {
  tokens::Principal p;
  p.name = std::move(name);
  p.role = tokens::Role::kAgent;
  p.keys = std::move(keys);
  return p;
}

TEST(AgentPolicyView, ShowsOnlyItsRulesAndTheListsTheyReference) {
  Fixture f;
  PolicyView v = AgentPolicyView(f.doc, f.parsed, Agent("bot-1", {"trader"}));
  EXPECT_EQ(Ids(v), (std::vector<std::string>{"no-blocked", "bot1-pay", "bots-msg"}));
  // bot2_payees (only bot-2's rule) and vault_keys (a key bot-1 may not use) stay hidden.
  EXPECT_EQ(ListNames(v), (std::vector<std::string>{"blocked", "bot1_payees", "bots"}));
  EXPECT_EQ(v.lists["bot1_payees"], f.doc["lists"]["bot1_payees"]);
}

TEST(AgentPolicyView, ListNamedAgentsAndKeysAreResolved) {
  Fixture f;
  PolicyView v = AgentPolicyView(f.doc, f.parsed, Agent("bot-2", {"vault"}));
  EXPECT_EQ(Ids(v), (std::vector<std::string>{"no-blocked", "bot2-pay", "vault-only"}));
  EXPECT_EQ(ListNames(v), (std::vector<std::string>{"blocked", "bot2_payees", "vault_keys"}));
}

TEST(AgentPolicyView, AnAgentNoRuleNamesSeesOnlyTheGeneralRules) {
  Fixture f;
  PolicyView v = AgentPolicyView(f.doc, f.parsed, Agent("stranger", {}));
  EXPECT_EQ(Ids(v), (std::vector<std::string>{"no-blocked"}));
  EXPECT_EQ(ListNames(v), (std::vector<std::string>{"blocked"}));
}

TEST(FullPolicyView, ShowsEverything) {
  Fixture f;
  PolicyView v = FullPolicyView(f.doc);
  EXPECT_EQ(v.rules.size(), 5u);
  EXPECT_EQ(v.lists, f.doc["lists"]);
}

TEST(AgentPolicyView, NoDocumentShowsNothing) {
  Fixture f;
  PolicyView v = AgentPolicyView(json(), f.parsed, Agent("bot-1", {"trader"}));
  EXPECT_TRUE(v.rules.empty());
  EXPECT_TRUE(v.lists.empty());
}

}  // namespace
}  // namespace sigil::server
