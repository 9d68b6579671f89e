// ApiClient: how the `sigil` CLI talks to a running daemon's REST API.
//
// It finds the daemon through --url / SIGIL_URL (http://, https:// or
// unix:PATH) and authenticates with --token / SIGIL_TOKEN or the admin.token
// file of --data. The token is held in SecretBytes and only ever written into
// the Authorization header.
//
// Thread-safety: not thread-safe; one per command invocation.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "nlohmann/json.hpp"

namespace sigil::cli {

// Exit statuses of the external contract (INTERFACE.md).
enum ExitCode : int { kExitOk = 0, kExitRefused = 1, kExitBadInput = 2, kExitUnavailable = 3 };

struct ApiResponse {
  int http_status = 0;
  nlohmann::json body;  // parsed JSON, or {"error": text} when the body was not JSON
};

// Sends one request. Errors are transport failures only (daemon unreachable).
using ApiTransport = std::function<absl::StatusOr<ApiResponse>(
    const std::string& method, const std::string& url, const std::string& path, const std::string& body,
    const SecretBytes& token)>;

// The real transport over net::HttpClient.
ApiTransport HttpApiTransport();

class ApiClient {
 public:
  ApiClient(std::string url, SecretBytes token, ApiTransport transport)
      : url_(std::move(url)), token_(std::move(token)), transport_(std::move(transport)) {}

  // Resolves url and token from flags, environment and the data directory.
  static absl::StatusOr<ApiClient> FromEnvironment(const std::string& url_flag, const std::string& token_flag,
                                                   const std::string& data_dir, ApiTransport transport);

  absl::StatusOr<ApiResponse> Call(const std::string& method, const std::string& path,
                                   const nlohmann::json& body = nullptr) const;
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  SecretBytes token_;
  ApiTransport transport_;
};

// Maps an HTTP status of the REST API to the CLI's exit status.
int ExitCodeForHttpStatus(int status);

}  // namespace sigil::cli
