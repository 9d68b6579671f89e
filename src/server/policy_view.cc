#include "server/policy_view.h"

#include <map>
#include <set>
#include <string>

#include "policy/condition.h"

namespace sigil::server {
namespace {

using nlohmann::json;

// Every "@name" string in `j` (list references may sit in keys, agents and
// any match condition, alone or inside an array).
void CollectListReferences(const json& j, std::set<std::string>& names) {
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.size() > 1 && s[0] == '@') names.insert(s.substr(1));
  } else if (j.is_structured()) {
    for (const json& child : j) CollectListReferences(child, names);
  }
}

bool AppliesTo(const policy::Rule& rule, const tokens::Principal& agent) {
  if (rule.agents && !policy::SetContains(*rule.agents, agent.name)) return false;
  if (!rule.keys) return true;
  for (const std::string& key : agent.keys) {
    if (policy::SetContains(*rule.keys, key)) return true;
  }
  return false;
}

const json& Rules(const json& document) {
  static const json* const kNone = new json(json::array());
  auto it = document.is_object() ? document.find("rules") : document.end();
  return document.is_object() && it != document.end() && it->is_array() ? *it : *kNone;
}

}  // namespace

PolicyView AgentPolicyView(const json& document, const policy::Policy& parsed, const tokens::Principal& agent) {
  PolicyView view;
  std::set<std::string> referenced;
  std::map<std::string, const policy::Rule*, std::less<>> held_by_id;
  for (const policy::Rule& r : parsed.rules()) held_by_id[r.id] = &r;
  for (const json& rule : Rules(document)) {
    if (!rule.is_object() || !rule.contains("id") || !rule["id"].is_string()) continue;
    const std::string& id = rule["id"].get_ref<const std::string&>();
    // The engine's reading of the rule (its keys and agents with lists
    // resolved) decides; a rule the engine does not hold is not shown.
    auto held = held_by_id.find(id);
    if (held == held_by_id.end() || !AppliesTo(*held->second, agent)) continue;
    view.rules.push_back(rule);
    CollectListReferences(rule, referenced);
  }
  if (document.is_object() && document.contains("lists") && document["lists"].is_object()) {
    for (const auto& [name, list] : document["lists"].items()) {
      if (referenced.count(name) != 0) view.lists[name] = list;
    }
  }
  return view;
}

PolicyView FullPolicyView(const json& document) {
  PolicyView view;
  view.rules = Rules(document);
  if (document.is_object() && document.contains("lists") && document["lists"].is_object()) view.lists = document["lists"];
  return view;
}

}  // namespace sigil::server
