// gen_eth SEED OUT.json [COUNT_PER_TYPE] [MESSAGES]
//
// Writes random Ethereum transactions (legacy EIP-155, EIP-2930, EIP-1559),
// each signed by Sigil with a random key, and random EIP-191 personal_sign
// messages, with every expected field, so that tests/e2e/differential_eth
// can check them with ethers. Deterministic for a given seed (keys come from
// the seeded generator; signatures are RFC 6979).
//
// Output (integers as decimal strings, byte strings as 0x-hex):
// {
//   "seed": "...",
//   "transactions": [{ "type": 0|1|2, "chainId", "nonce", "gasLimit",
//       "gasPrice" | "maxFeePerGas" + "maxPriorityFeePerGas", "to" (checksum
//       or null), "value", "data", "accessList": [{address, storageKeys}],
//       "from", "raw", "hash", "unsigned", "signingHash", "v", "r", "s",
//       "yParity" }],
//   "messages": [{ "kind": "bytes"|"utf8", "message_hex", "message_utf8"
//       (utf8 only), "hash", "signature", "address" }]
// }
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "base/hex.h"
#include "base/secret.h"
#include "base/uint256.h"
#include "chains/ethereum/address.h"
#include "chains/ethereum/message.h"
#include "chains/ethereum/transaction.h"
#include "crypto/secp256k1.h"
#include "nlohmann/json.hpp"

namespace {

using namespace sigil;
using namespace sigil::eth;
using nlohmann::json;

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  uint64_t U64() { return gen_(); }
  // Uniform in [0, n).
  uint64_t Below(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(gen_); }
  bool Chance(unsigned percent) { return Below(100) < percent; }
  Bytes RandomBytes(size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(gen_());
    return b;
  }
  // An integer of a random bit length in [0, max_bits], with edge cases.
  Uint256 Number(unsigned max_bits) {
    switch (Below(10)) {
      case 0: return Uint256();
      case 1: return MaxOfBits(max_bits);
      default: break;
    }
    unsigned bits = static_cast<unsigned>(Below(max_bits + 1));
    Bytes b = RandomBytes(32);
    // Keep only the low `bits` bits.
    for (size_t i = 0; i < 32; ++i) {
      unsigned bit_lo = static_cast<unsigned>((31 - i) * 8);
      if (bit_lo >= bits) {
        b[i] = 0;
      } else if (bit_lo + 8 > bits) {
        b[i] &= static_cast<uint8_t>((1u << (bits - bit_lo)) - 1);
      }
    }
    return *Uint256::FromBigEndian(b);
  }
  uint64_t Number64(unsigned max_bits) { return Number(max_bits).Low64(); }

 private:
  static Uint256 MaxOfBits(unsigned bits) {
    Bytes b(32, 0);
    for (unsigned i = 0; i < bits; ++i) b[31 - i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    return *Uint256::FromBigEndian(b);
  }
  std::mt19937_64 gen_;
};

SecretBytes RandomKey(Rng& rng) {
  for (;;) {
    Bytes k = rng.RandomBytes(32);
    SecretBytes key = SecretBytes::CopyFrom(k);
    SecureWipe(k);
    if (crypto::DeriveSecp256k1PublicKey(key).ok()) return key;
  }
}

uint64_t RandomChainId(Rng& rng) {
  static const uint64_t kCommon[] = {1, 5, 10, 56, 137, 8453, 42161, 11155111, 31337, 1337};
  switch (rng.Below(4)) {
    case 0: return kCommon[rng.Below(std::size(kCommon))];
    case 1: return 1 + rng.Below(1u << 16);
    case 2: return 1 + rng.Below(uint64_t{1} << 40);
    default: return 1 + rng.Below(kMaxChainId);
  }
}

std::optional<Address> RandomTo(Rng& rng) {
  if (rng.Chance(10)) return std::nullopt;  // contract creation
  Bytes b = rng.RandomBytes(20);
  if (rng.Chance(5)) std::fill(b.begin(), b.end() - 1, 0);  // precompile-like
  return Address::FromBytes(std::span<const uint8_t, 20>(b.data(), 20));
}

Bytes RandomData(Rng& rng) {
  switch (rng.Below(4)) {
    case 0: return {};
    case 1: {  // ERC-20 transfer calldata
      Bytes d = {0xa9, 0x05, 0x9c, 0xbb};
      Bytes to(12, 0);
      Bytes addr = rng.RandomBytes(20);
      d.insert(d.end(), to.begin(), to.end());
      d.insert(d.end(), addr.begin(), addr.end());
      auto amount = rng.Number(256).ToBigEndian();
      d.insert(d.end(), amount.begin(), amount.end());
      return d;
    }
    case 2: return rng.RandomBytes(rng.Below(56));
    default: return rng.RandomBytes(rng.Below(600));
  }
}

AccessList RandomAccessList(Rng& rng) {
  AccessList list;
  if (rng.Chance(30)) return list;
  size_t n = rng.Below(5);
  for (size_t i = 0; i < n; ++i) {
    AccessListEntry e;
    Bytes a = rng.RandomBytes(20);
    e.address = Address::FromBytes(std::span<const uint8_t, 20>(a.data(), 20));
    size_t keys = rng.Below(5);
    for (size_t k = 0; k < keys; ++k) {
      StorageKey key;
      Bytes kb = rng.RandomBytes(32);
      if (rng.Chance(20)) std::fill(kb.begin(), kb.end() - 1, 0);
      std::copy(kb.begin(), kb.end(), key.begin());
      e.storage_keys.push_back(key);
    }
    list.push_back(std::move(e));
  }
  return list;
}

TransactionFields RandomFields(Rng& rng, TxType type) {
  TransactionFields f;
  f.type = type;
  f.chain_id = RandomChainId(rng);
  // ethers keeps the nonce as a JS number, so stay within 2^53 - 1 (real
  // nonces never come close; 64-bit nonces are covered by the unit tests).
  f.nonce = rng.Number64(53);
  f.gas_limit = rng.Chance(30) ? 21000 : rng.Number64(64);
  f.to = RandomTo(rng);
  f.value = rng.Number(256);
  f.data = RandomData(rng);
  if (type == TxType::kDynamicFee) {
    f.max_fee_per_gas = rng.Number(256);
    Uint256 prio = rng.Number(256);
    if (prio > f.max_fee_per_gas) prio = rng.Chance(50) ? f.max_fee_per_gas : Uint256();
    f.max_priority_fee_per_gas = prio;
  } else {
    f.gas_price = rng.Number(256);
  }
  if (type != TxType::kLegacy) f.access_list = RandomAccessList(rng);
  return f;
}

std::string Dec(const Uint256& v) { return v.ToDecimal(); }
std::string Dec64(uint64_t v) { return Uint256(v).ToDecimal(); }

json AccessListJson(const AccessList& list) {
  json out = json::array();
  for (const auto& e : list) {
    json keys = json::array();
    for (const auto& k : e.storage_keys) keys.push_back(HexEncode0x(k));
    out.push_back({{"address", e.address.ToChecksumHex()}, {"storageKeys", keys}});
  }
  return out;
}

// Random valid UTF-8: ASCII, 2-, 3- and 4-byte sequences (no surrogates).
std::string RandomUtf8(Rng& rng) {
  std::string s;
  size_t n = rng.Below(80);
  for (size_t i = 0; i < n; ++i) {
    uint32_t cp;
    switch (rng.Below(4)) {
      case 0: cp = 0x20 + static_cast<uint32_t>(rng.Below(0x5f)); break;
      case 1: cp = 0x80 + static_cast<uint32_t>(rng.Below(0x800 - 0x80)); break;
      case 2:
        cp = 0x800 + static_cast<uint32_t>(rng.Below(0x10000 - 0x800));
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x4e2d;
        break;
      default: cp = 0x10000 + static_cast<uint32_t>(rng.Below(0x110000 - 0x10000)); break;
    }
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      s.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  return s;
}

int Fail(const std::string& what, const absl::Status& st) {
  std::cerr << "gen_eth: " << what << ": " << st << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: gen_eth SEED OUT.json [COUNT_PER_TYPE=1000] [MESSAGES=250]\n";
    return 2;
  }
  uint64_t seed = std::stoull(argv[1]);
  std::string out_path = argv[2];
  size_t per_type = argc > 3 ? std::stoul(argv[3]) : 1000;
  size_t messages = argc > 4 ? std::stoul(argv[4]) : 250;
  Rng rng(seed);

  json txs = json::array();
  for (TxType type : {TxType::kLegacy, TxType::kAccessList, TxType::kDynamicFee}) {
    for (size_t i = 0; i < per_type; ++i) {
      SecretBytes key = RandomKey(rng);
      auto tx = Transaction::Create(RandomFields(rng, type));
      if (!tx.ok()) return Fail("create", tx.status());
      auto signed_tx = Sign(*tx, key);
      if (!signed_tx.ok()) return Fail("sign", signed_tx.status());
      auto sender = signed_tx->RecoverSender();
      if (!sender.ok()) return Fail("recover", sender.status());
      Address signer = Address::FromPublicKey(*crypto::DeriveSecp256k1PublicKey(key));
      if (!(*sender == signer)) {
        std::cerr << "gen_eth: recovered sender differs from the key's address\n";
        return 1;
      }
      json e = {{"type", static_cast<int>(type)},
                {"chainId", Dec64(*tx->chain_id())},
                {"nonce", Dec64(tx->nonce())},
                {"gasLimit", Dec64(tx->gas_limit())},
                {"to", tx->to() ? json(tx->to()->ToChecksumHex()) : json(nullptr)},
                {"value", Dec(tx->value())},
                {"data", HexEncode0x(tx->data())},
                {"accessList", AccessListJson(tx->access_list())},
                {"from", signer.ToChecksumHex()},
                {"raw", HexEncode0x(signed_tx->Encode())},
                {"hash", HexEncode0x(signed_tx->Hash())},
                {"unsigned", HexEncode0x(tx->EncodeUnsigned())},
                {"signingHash", HexEncode0x(tx->SigningHash())},
                {"v", Dec64(signed_tx->v())},
                {"r", HexEncode0x(signed_tx->signature().r)},
                {"s", HexEncode0x(signed_tx->signature().s)},
                {"yParity", static_cast<int>(signed_tx->y_parity())}};
      if (type == TxType::kDynamicFee) {
        e["maxFeePerGas"] = Dec(tx->max_fee_per_gas());
        e["maxPriorityFeePerGas"] = Dec(tx->max_priority_fee_per_gas());
      } else {
        e["gasPrice"] = Dec(tx->gas_price());
      }
      txs.push_back(std::move(e));
    }
  }

  json msgs = json::array();
  for (size_t i = 0; i < messages; ++i) {
    SecretBytes key = RandomKey(rng);
    Address signer = Address::FromPublicKey(*crypto::DeriveSecp256k1PublicKey(key));
    bool utf8 = i % 2 == 1;
    Bytes msg;
    std::string text;
    if (utf8) {
      text = RandomUtf8(rng);
      msg.assign(text.begin(), text.end());
    } else {
      msg = rng.RandomBytes(i == 0 ? 0 : rng.Below(300));
    }
    auto sig = SignPersonalMessage(key, msg);
    if (!sig.ok()) return Fail("personal_sign", sig.status());
    auto recovered = RecoverPersonalSigner(msg, *sig);
    if (!recovered.ok() || !(*recovered == signer)) {
      std::cerr << "gen_eth: personal_sign signer does not recover\n";
      return 1;
    }
    json m = {{"kind", utf8 ? "utf8" : "bytes"},
              {"message_hex", HexEncode0x(msg)},
              {"hash", HexEncode0x(PersonalMessageHash(msg))},
              {"signature", HexEncode0x(*sig)},
              {"address", signer.ToChecksumHex()}};
    if (utf8) m["message_utf8"] = text;
    msgs.push_back(std::move(m));
  }

  json doc = {{"seed", std::to_string(seed)}, {"transactions", std::move(txs)}, {"messages", std::move(msgs)}};
  std::ofstream out(out_path);
  out << doc.dump() << "\n";
  if (!out) {
    std::cerr << "gen_eth: cannot write " << out_path << "\n";
    return 1;
  }
  std::cout << "gen_eth: wrote " << doc["transactions"].size() << " transactions and "
            << doc["messages"].size() << " messages to " << out_path << "\n";
  return 0;
}
