// FakeRpcCaller: a scripted stand-in for Sigil's JSON-RPC endpoint, for the
// MCP tests. Records every call; answers each method with a fixed result, a
// function of the params, or -32601 when nothing is scripted.
// Not thread-safe unless only Caller() is used after scripting (reads only).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "mcp/rpc_caller.h"

namespace sigil::mcp {

class FakeRpcCaller {
 public:
  using Handler = std::function<RpcResult(const nlohmann::json& params)>;

  void On(const std::string& method, RpcResult result) {
    handlers_[method] = [result](const nlohmann::json&) { return result; };
  }
  void On(const std::string& method, Handler handler) { handlers_[method] = std::move(handler); }
  void Succeed(const std::string& method, nlohmann::json result) { On(method, RpcResult::Success(std::move(result))); }
  void Fail(const std::string& method, int code, std::string message, nlohmann::json data = nullptr) {
    On(method, RpcResult::Failure(code, std::move(message), std::move(data)));
  }

  RpcCaller Caller() {
    return [this](const std::string& method, const nlohmann::json& params) {
      {
        absl::MutexLock lock(&mu_);
        calls_.emplace_back(method, params);
      }
      auto it = handlers_.find(method);
      if (it == handlers_.end()) return RpcResult::Failure(kMethodNotFound, "method not found: " + method);
      return it->second(params);
    };
  }

  std::vector<std::pair<std::string, nlohmann::json>> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Params of the last call to `method`, or null.
  nlohmann::json LastParams(const std::string& method) const {
    absl::MutexLock lock(&mu_);
    for (auto it = calls_.rbegin(); it != calls_.rend(); ++it) {
      if (it->first == method) return it->second;
    }
    return nullptr;
  }
  int CountOf(const std::string& method) const {
    absl::MutexLock lock(&mu_);
    int n = 0;
    for (const auto& c : calls_) n += c.first == method ? 1 : 0;
    return n;
  }

 private:
  std::map<std::string, Handler> handlers_;
  mutable absl::Mutex mu_;
  std::vector<std::pair<std::string, nlohmann::json>> calls_;
};

}  // namespace sigil::mcp
