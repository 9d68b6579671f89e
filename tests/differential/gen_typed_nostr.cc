// Differential test generator for EIP-712 and Nostr (NIP-01).
//
// Writes one JSON object to stdout:
//   {"seed": N,
//    "eip712": [{"doc": {types, primaryType, domain, message}, "digest": "0x..",
//                "signature": "0x..(65 bytes)", "address": "0x.."}, ...],
//    "nostr":  [{"event": {id, pubkey, created_at, kind, tags, content, sig}}, ...]}
// tests/e2e/differential_typed_nostr.test.mjs checks every entry with ethers
// (TypedDataEncoder.hash, verifyTypedData) and nostr-tools (getEventHash,
// verifyEvent).
//
// Usage: gen_typed_nostr [--seed N] [--eip712 N] [--nostr N]
// Documents are random but reproducible from the seed: random struct types
// (a DAG, every struct reachable from the primary type, as ethers requires),
// nested and fixed/dynamic arrays, bytesN, intN/uintN at their bounds,
// unicode strings, addresses in checksum or lower case, integers as JSON
// numbers, decimal or hex strings; keys are random.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/secret.h"
#include "base/uint256.h"
#include "chains/ethereum/address.h"
#include "chains/ethereum/typed_data.h"
#include "chains/nostr/event.h"
#include "crypto/secp256k1.h"

namespace {

using json = nlohmann::json;
using sigil::Bytes;
using sigil::Uint256;

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  uint64_t Below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool Chance(unsigned percent) { return Below(100) < percent; }
  Bytes RandomBytes(size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(Below(256));
    return b;
  }

  // A random secp256k1 private key (retrying the negligible invalid case).
  sigil::SecretBytes Key() {
    for (;;) {
      Bytes b = RandomBytes(32);
      auto key = sigil::SecretBytes::CopyFrom(b);
      if (sigil::crypto::DeriveSecp256k1PublicKey(key).ok()) return key;
    }
  }

  // Unicode text with the characters serializers get wrong. `nostr_safe`
  // leaves out the control characters NIP-01 implementations disagree on.
  std::string Text(bool nostr_safe, size_t max_atoms = 12) {
    static const std::vector<std::string> atoms = {
        "a", "Z", "0", " ", "Moo", "\"", "\\", "\n", "\r", "\t", "\b", "\f", "/", "</script>", "é", "ñ", "ü",
        "🚀", "💩", "中文", "日本", "\u2028", "\u2029", "\x7f", "\u00a0", "\uffff", "{", "}", "[", "]", ",", ":",
        "\\u0000", "'", "`", "\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88"};
    static const std::vector<std::string> ambiguous = {std::string(1, '\0'), "\x01", "\x1f", "\x0b", "\x1b"};
    std::string out;
    const size_t n = Below(max_atoms + 1);
    for (size_t i = 0; i < n; ++i) {
      if (!nostr_safe && Chance(8)) {
        out += ambiguous[Below(ambiguous.size())];
      } else {
        out += atoms[Below(atoms.size())];
      }
    }
    return out;
  }

  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

// --- EIP-712 ------------------------------------------------------------------

struct FieldSpec {
  std::string name;
  std::string base;             // atomic type or struct name
  std::vector<int> dims;        // outermost last, as written; 0 = dynamic
};

std::string TypeString(const FieldSpec& f) {
  std::string s = f.base;
  for (int d : f.dims) s += d == 0 ? "[]" : "[" + std::to_string(d) + "]";
  return s;
}

std::string RandomAtomic(Gen& g) {
  switch (g.Below(7)) {
    case 0: return "address";
    case 1: return "bool";
    case 2: return "string";
    case 3: return "bytes";
    case 4: return "bytes" + std::to_string(1 + g.Below(32));
    case 5: return "uint" + std::to_string(8 * (1 + g.Below(32)));
    default: return "int" + std::to_string(8 * (1 + g.Below(32)));
  }
}

std::vector<int> RandomDims(Gen& g) {
  std::vector<int> dims;
  const unsigned roll = static_cast<unsigned>(g.Below(100));
  const size_t n = roll < 60 ? 0 : roll < 85 ? 1 : roll < 97 ? 2 : 3;
  for (size_t i = 0; i < n; ++i) dims.push_back(g.Chance(50) ? 0 : static_cast<int>(1 + g.Below(3)));
  return dims;
}

json IntegerValue(Gen& g, bool is_signed, unsigned bits) {
  const unsigned magnitude_bits = is_signed ? bits - 1 : bits;
  bool negative = is_signed && g.Chance(50);
  Uint256 m;
  const unsigned roll = static_cast<unsigned>(g.Below(10));
  if (roll == 0) {
    m = Uint256();
  } else if (roll == 1) {
    // The bound: 2^k - 1, or 2^(n-1) for the most negative signed value.
    std::vector<uint8_t> be(32, 0);
    for (unsigned b = 0; b < magnitude_bits; ++b) be[31 - b / 8] |= static_cast<uint8_t>(1u << (b % 8));
    m = *Uint256::FromBigEndian(be);
    if (negative) m = *m.Add(Uint256(1));
  } else {
    const unsigned len = static_cast<unsigned>(g.Below(magnitude_bits + 1));
    std::vector<uint8_t> be(32, 0);
    for (unsigned b = 0; b < len; ++b) {
      if (b + 1 == len || g.Chance(50)) be[31 - b / 8] |= static_cast<uint8_t>(1u << (b % 8));
    }
    m = *Uint256::FromBigEndian(be);
  }
  if (m.IsZero()) negative = false;
  const std::string sign = negative ? "-" : "";
  const unsigned form = static_cast<unsigned>(g.Below(3));
  if (form == 0 && m.FitsUint64() && m.Low64() <= (uint64_t{1} << 53)) {
    const auto v = static_cast<int64_t>(m.Low64());
    return negative ? json(-v) : json(static_cast<uint64_t>(v));
  }
  if (form == 1) return sign + m.ToHexQuantity();
  return sign + m.ToDecimal();
}

json AtomicValue(Gen& g, const std::string& type) {
  if (type == "address") {
    Bytes b = g.RandomBytes(20);
    auto a = sigil::eth::Address::FromBytes(std::span<const uint8_t, 20>(b.data(), 20));
    return g.Chance(50) ? a.ToChecksumHex() : a.ToLowerHex();
  }
  if (type == "bool") return g.Chance(50);
  if (type == "string") return g.Text(/*nostr_safe=*/false);
  if (type == "bytes") return sigil::HexEncode0x(g.RandomBytes(g.Below(70)));
  if (type.rfind("bytes", 0) == 0) return sigil::HexEncode0x(g.RandomBytes(std::stoul(type.substr(5))));
  if (type.rfind("uint", 0) == 0) return IntegerValue(g, false, static_cast<unsigned>(std::stoul(type.substr(4))));
  return IntegerValue(g, true, static_cast<unsigned>(std::stoul(type.substr(3))));
}

struct Schema {
  std::vector<std::string> names;
  std::vector<std::vector<FieldSpec>> fields;
};

json StructValue(Gen& g, const Schema& s, size_t index);

json FieldValue(Gen& g, const Schema& s, const FieldSpec& f, size_t dim_count) {
  if (dim_count > 0) {
    const int d = f.dims[dim_count - 1];
    const size_t n = d == 0 ? g.Below(4) : static_cast<size_t>(d);
    json arr = json::array();
    for (size_t i = 0; i < n; ++i) arr.push_back(FieldValue(g, s, f, dim_count - 1));
    return arr;
  }
  for (size_t i = 0; i < s.names.size(); ++i) {
    if (s.names[i] == f.base) return StructValue(g, s, i);
  }
  return AtomicValue(g, f.base);
}

json StructValue(Gen& g, const Schema& s, size_t index) {
  json v = json::object();
  for (const FieldSpec& f : s.fields[index]) v[f.name] = FieldValue(g, s, f, f.dims.size());
  return v;
}

json RandomTypedData(Gen& g) {
  Schema s;
  const size_t num_structs = 1 + g.Below(5);
  for (size_t i = 0; i < num_structs; ++i) {
    s.names.push_back((g.Chance(20) ? "S_$" : "Struct") + std::to_string(i));
    std::vector<FieldSpec> fields;
    const size_t n = 1 + g.Below(5);
    for (size_t k = 0; k < n; ++k) fields.push_back({"f" + std::to_string(k), RandomAtomic(g), RandomDims(g)});
    s.fields.push_back(std::move(fields));
  }
  // Link every struct j > 0 from an earlier one: a DAG rooted at struct 0.
  for (size_t j = 1; j < num_structs; ++j) {
    const size_t parent = g.Below(j);
    std::vector<int> dims = RandomDims(g);
    if (dims.size() > 1) dims.resize(1);  // keep nested struct arrays small
    FieldSpec link{"child" + std::to_string(j), s.names[j], dims};
    auto& pf = s.fields[parent];
    pf.insert(pf.begin() + static_cast<long>(g.Below(pf.size() + 1)), link);
  }
  // Field names unique per struct after the insertions: rename positionally.
  for (auto& fields : s.fields) {
    for (size_t k = 0; k < fields.size(); ++k) {
      if (fields[k].name.rfind("child", 0) != 0) fields[k].name = (g.Chance(10) ? "_p" : "p") + std::to_string(k);
    }
  }

  json types = json::object();
  for (size_t i = 0; i < num_structs; ++i) {
    json fl = json::array();
    for (const FieldSpec& f : s.fields[i]) fl.push_back({{"name", f.name}, {"type", TypeString(f)}});
    types[s.names[i]] = fl;
  }

  json domain = json::object();
  json domain_fields = json::array();
  if (g.Chance(60)) {
    domain["name"] = g.Text(false, 6);
    domain_fields.push_back({{"name", "name"}, {"type", "string"}});
  }
  if (g.Chance(50)) {
    domain["version"] = std::to_string(g.Below(40)) + "." + std::to_string(g.Below(40));
    domain_fields.push_back({{"name", "version"}, {"type", "string"}});
  }
  if (g.Chance(60)) {
    const uint64_t id = g.Chance(80) ? 1 + g.Below(100000) : g.rng()();
    domain["chainId"] = g.Chance(50) && id <= (uint64_t{1} << 53) ? json(id)
                        : g.Chance(50)                            ? json(Uint256(id).ToHexQuantity())
                                                                  : json(std::to_string(id));
    domain_fields.push_back({{"name", "chainId"}, {"type", "uint256"}});
  }
  if (g.Chance(50)) {
    domain["verifyingContract"] = AtomicValue(g, "address");
    domain_fields.push_back({{"name", "verifyingContract"}, {"type", "address"}});
  }
  if (g.Chance(30)) {
    domain["salt"] = sigil::HexEncode0x(g.RandomBytes(32));
    domain_fields.push_back({{"name", "salt"}, {"type", "bytes32"}});
  }
  // eth_signTypedData_v4 documents usually declare the domain; ethers-style
  // ones derive it. Exercise both.
  if (g.Chance(70)) types["EIP712Domain"] = domain_fields;

  return {{"types", types}, {"primaryType", s.names[0]}, {"domain", domain}, {"message", StructValue(g, s, 0)}};
}

// --- Nostr --------------------------------------------------------------------

uint32_t RandomKind(Gen& g) {
  static const uint32_t common[] = {0, 1, 3, 4, 5, 6, 7, 1984, 9734, 9735, 10002, 30023, 65535};
  return g.Chance(60) ? common[g.Below(sizeof(common) / sizeof(common[0]))] : static_cast<uint32_t>(g.Below(65536));
}

uint64_t RandomCreatedAt(Gen& g) {
  switch (g.Below(4)) {
    case 0: return 1600000000 + g.Below(200000000);
    case 1: return g.Below(100);
    case 2: return sigil::nostr::kMaxCreatedAt - g.Below(3);
    default: return g.Below(uint64_t{1} << 40);
  }
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = 20240601;
  size_t num_eip712 = 220, num_nostr = 220;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const uint64_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--seed") {
      seed = v;
    } else if (flag == "--eip712") {
      num_eip712 = v;
    } else if (flag == "--nostr") {
      num_nostr = v;
    } else {
      std::cerr << "usage: gen_typed_nostr [--seed N] [--eip712 N] [--nostr N]\n";
      return 2;
    }
  }
  Gen g(seed);
  json out = {{"seed", seed}, {"eip712", json::array()}, {"nostr", json::array()}};

  for (size_t i = 0; i < num_eip712; ++i) {
    json doc = RandomTypedData(g);
    // Half of the documents travel as JSON text wrapped in a JSON string, as
    // some eth_signTypedData_v4 callers send them.
    const std::string text = doc.dump();
    auto td = g.Chance(50) ? sigil::eth::TypedData::Parse(text) : sigil::eth::TypedData::Parse(json(text).dump());
    if (!td.ok()) {
      std::cerr << "generated EIP-712 document " << i << " was refused: " << td.status() << "\n" << text << "\n";
      return 1;
    }
    sigil::SecretBytes key = g.Key();
    auto sig = sigil::eth::SignTypedData(key, *td);
    auto pub = sigil::crypto::DeriveSecp256k1PublicKey(key);
    if (!sig.ok() || !pub.ok()) {
      std::cerr << "signing failed\n";
      return 1;
    }
    out["eip712"].push_back({{"doc", doc},
                             {"digest", sigil::HexEncode0x(td->Digest())},
                             {"signature", sigil::HexEncode0x(*sig)},
                             {"address", sigil::eth::Address::FromPublicKey(*pub).ToChecksumHex()}});
  }

  for (size_t i = 0; i < num_nostr; ++i) {
    std::vector<sigil::nostr::Tag> tags;
    const size_t num_tags = g.Below(6);
    for (size_t t = 0; t < num_tags; ++t) {
      sigil::nostr::Tag tag;
      const size_t len = 1 + g.Below(4);
      static const char* names[] = {"e", "p", "t", "a", "d", "r", "imeta", "emoji"};
      tag.push_back(g.Chance(70) ? std::string(names[g.Below(8)]) : g.Text(true, 3));
      for (size_t k = 1; k < len; ++k) tag.push_back(g.Text(true, 5));
      tags.push_back(std::move(tag));
    }
    auto tmpl = sigil::nostr::UnsignedEvent::Create(RandomCreatedAt(g), RandomKind(g), std::move(tags),
                                                    g.Text(true, 30));
    if (!tmpl.ok()) {
      std::cerr << "template refused: " << tmpl.status() << "\n";
      return 1;
    }
    sigil::SecretBytes key = g.Key();
    auto ev = sigil::nostr::SignEvent(key, *tmpl);
    if (!ev.ok()) {
      std::cerr << "nostr signing failed: " << ev.status() << "\n";
      return 1;
    }
    // Our own JSON writer's text, parsed as-is, is what the test checks.
    out["nostr"].push_back({{"event_json", ev->ToJsonText()}, {"id", ev->IdHex()}});
  }
  std::cout << out.dump() << "\n";
  return 0;
}
