#include "mcp/json_schema.h"

#include <cmath>
#include <set>
#include <string_view>

namespace sigil::mcp {
namespace {

using nlohmann::json;

std::string TypeOf(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    default: return "unknown";
  }
}

bool IsIntegral(const json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

bool HasType(const json& v, const std::string& type) {
  if (type == "null") return v.is_null();
  if (type == "boolean") return v.is_boolean();
  if (type == "integer") return IsIntegral(v);
  if (type == "number") return v.is_number();
  if (type == "string") return v.is_string();
  if (type == "array") return v.is_array();
  if (type == "object") return v.is_object();
  return false;
}

// JSON pointer escaping (RFC 6901).
std::string Escape(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Where(const std::string& path) { return path.empty() ? "/" : path; }

absl::Status Fail(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(Where(path) + ": " + what);
}

absl::Status Check(const json& v, const json& s, const std::string& path) {
  if (!s.is_object()) return absl::OkStatus();  // `true`-like schema

  if (auto it = s.find("type"); it != s.end()) {
    std::vector<std::string> types;
    if (it->is_string()) {
      types.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const json& t : *it) {
        if (t.is_string()) types.push_back(t.get<std::string>());
      }
    }
    bool any = false;
    for (const std::string& t : types) any = any || HasType(v, t);
    if (!any) {
      std::string expected;
      for (size_t i = 0; i < types.size(); ++i) {
        if (i > 0) expected += (i + 1 == types.size()) ? " or " : ", ";
        expected += types[i];
      }
      return Fail(path, "expected " + expected + ", got " + TypeOf(v));
    }
  }

  if (auto it = s.find("enum"); it != s.end() && it->is_array()) {
    bool found = false;
    for (const json& e : *it) found = found || (e == v);
    if (!found) {
      std::string allowed;
      for (const json& e : *it) allowed += (allowed.empty() ? "" : ", ") + e.dump();
      return Fail(path, "must be one of " + allowed);
    }
  }

  if (auto it = s.find("minLength"); it != s.end() && v.is_string() && IsIntegral(*it) && it->get<double>() >= 0) {
    const auto min = static_cast<size_t>(it->get<double>());
    if (v.get_ref<const std::string&>().size() < min) {
      return Fail(path, "must not be shorter than " + std::to_string(min) + " characters");
    }
  }

  if (auto it = s.find("minimum"); it != s.end() && v.is_number() && it->is_number()) {
    if (v.get<double>() < it->get<double>()) return Fail(path, "must be at least " + it->dump());
  }

  if (v.is_object()) {
    const json* props = nullptr;
    if (auto it = s.find("properties"); it != s.end() && it->is_object()) props = &*it;
    if (auto it = s.find("required"); it != s.end() && it->is_array()) {
      for (const json& name : *it) {
        if (name.is_string() && !v.contains(name.get<std::string>())) {
          return Fail(path, "missing required member \"" + name.get<std::string>() + "\"");
        }
      }
    }
    const auto additional = s.find("additionalProperties");
    for (auto member = v.begin(); member != v.end(); ++member) {
      const std::string child = path + "/" + Escape(member.key());
      if (props != nullptr && props->contains(member.key())) {
        if (absl::Status st = Check(member.value(), (*props)[member.key()], child); !st.ok()) return st;
      } else if (additional != s.end()) {
        if (additional->is_boolean() && !additional->get<bool>()) {
          std::string known;
          if (props != nullptr) {
            for (auto p = props->begin(); p != props->end(); ++p) known += (known.empty() ? "" : ", ") + p.key();
          }
          return Fail(path, "unknown member \"" + member.key() + "\"" +
                                (known.empty() ? std::string() : " (known members: " + known + ")"));
        }
        if (additional->is_object()) {
          if (absl::Status st = Check(member.value(), *additional, child); !st.ok()) return st;
        }
      }
    }
  }

  if (v.is_array()) {
    if (auto it = s.find("items"); it != s.end() && it->is_object()) {
      for (size_t i = 0; i < v.size(); ++i) {
        if (absl::Status st = Check(v[i], *it, path + "/" + std::to_string(i)); !st.ok()) return st;
      }
    }
  }

  if (auto it = s.find("anyOf"); it != s.end() && it->is_array()) {
    absl::Status first = absl::OkStatus();
    for (const json& alternative : *it) {
      absl::Status st = Check(v, alternative, path);
      if (st.ok()) return st;
      if (first.ok()) first = st;
    }
    if (!it->empty()) {
      return Fail(path, "matches none of the allowed shapes (first: " + std::string(first.message()) + ")");
    }
  }
  return absl::OkStatus();
}

const std::set<std::string, std::less<>>& KnownKeywords() {
  static const auto* known = new std::set<std::string, std::less<>>{
      "type", "properties", "required", "additionalProperties", "items", "anyOf",
      "enum", "minLength", "minimum", "description", "title"};
  return *known;
}

absl::Status CheckKeywords(const json& s, const std::string& path) {
  if (s.is_boolean()) return absl::OkStatus();
  if (!s.is_object()) return Fail(path, "a schema must be an object or a boolean");
  for (auto it = s.begin(); it != s.end(); ++it) {
    if (!KnownKeywords().contains(it.key())) return Fail(path, "unsupported keyword \"" + it.key() + "\"");
  }
  if (auto it = s.find("properties"); it != s.end()) {
    if (!it->is_object()) return Fail(path, "properties must be an object");
    for (auto p = it->begin(); p != it->end(); ++p) {
      if (absl::Status st = CheckKeywords(p.value(), path + "/properties/" + Escape(p.key())); !st.ok()) return st;
    }
  }
  if (auto it = s.find("items"); it != s.end()) {
    if (absl::Status st = CheckKeywords(*it, path + "/items"); !st.ok()) return st;
  }
  if (auto it = s.find("additionalProperties"); it != s.end()) {
    if (absl::Status st = CheckKeywords(*it, path + "/additionalProperties"); !st.ok()) return st;
  }
  if (auto it = s.find("anyOf"); it != s.end()) {
    if (!it->is_array()) return Fail(path, "anyOf must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      if (absl::Status st = CheckKeywords((*it)[i], path + "/anyOf/" + std::to_string(i)); !st.ok()) return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckAgainstSchema(const nlohmann::json& value, const nlohmann::json& schema) {
  return Check(value, schema, "");
}

absl::Status CheckSchemaKeywords(const nlohmann::json& schema) { return CheckKeywords(schema, ""); }

}  // namespace sigil::mcp
