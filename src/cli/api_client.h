// ApiClient: how the `sigil` CLI talks to a running daemon's REST API.
//
// It finds the daemon through --url / SIGIL_URL (http://, https:// or
// unix:PATH) and authenticates with, first found: --token, the admin.token
// file of --data, SIGIL_TOKEN, ./.sigil-dev/admin.token. A flag beats the
// environment: `--data DIR` is obeyed even with an agent's SIGIL_TOKEN
// exported in the shell. The token is held in SecretBytes and only ever
// written into the Authorization header; Redact() keeps it out of messages.
//
// Thread-safety: not thread-safe; one per command invocation.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/secret.h"
#include "nlohmann/json.hpp"

namespace sigil::cli {

// Exit statuses of the external contract (INTERFACE.md).
enum ExitCode : int { kExitOk = 0, kExitRefused = 1, kExitBadInput = 2, kExitUnavailable = 3 };

struct ApiResponse {
  int http_status = 0;
  nlohmann::json body;  // parsed JSON, or {"error": text} when the body was not JSON
  std::string text;     // the body as sent when it was not JSON (a CSV report), else empty
};

// Sends one request. Errors are transport failures only: InvalidArgument
// when the request could not be formed (a malformed URL), anything else when
// the daemon could not be reached or did not answer.
using ApiTransport = std::function<absl::StatusOr<ApiResponse>(
    const std::string& method, const std::string& url, const std::string& path, const std::string& body,
    const SecretBytes& token)>;

// The largest answer the CLI accepts. An audit export arrives whole, hex
// encoded (two bytes per byte of log, about 600 bytes per record), so the
// HTTP client's 8 MiB default refused the export of a log past ~15,000
// records.
inline constexpr size_t kMaxCliResponseBytes = size_t{256} << 20;

// How Sigil's tokens begin (tokens::kTokenPrefix; main.cc checks they agree).
inline constexpr std::string_view kTokenPrefix = "sgl_";

// `text` with the secret part of anything shaped like a Sigil token
// ("sgl_" and the letters and digits after it) replaced by "<redacted>":
// for messages that may quote a token other than the caller's own.
std::string RedactTokens(std::string text);
// RedactTokens, after the exact text of `token` is replaced by "<token>"
// (whatever its shape).
std::string RedactToken(std::string text, const SecretBytes& token);

// The real transport over net::HttpClient.
ApiTransport HttpApiTransport();

class ApiClient {
 public:
  ApiClient(std::string url, SecretBytes token, ApiTransport transport)
      : url_(std::move(url)), token_(std::move(token)), transport_(std::move(transport)) {}

  // Resolves url and token from flags, environment and the data directory.
  // A token flag that was given but is empty (`--token "$UNSET"`) is
  // InvalidArgument, never a fall back to another token (an agent's script
  // must not run as admin because its variable was unset); so is a
  // SIGIL_TOKEN that is set but empty.
  static absl::StatusOr<ApiClient> FromEnvironment(const std::string& url_flag, const std::optional<std::string>& token_flag,
                                                   const std::string& data_dir, ApiTransport transport);

  absl::StatusOr<ApiResponse> Call(const std::string& method, const std::string& path,
                                   const nlohmann::json& body = nullptr) const;
  const std::string& url() const { return url_; }

  // `text` with every occurrence of the token replaced by "<token>": a
  // message that quotes a misplaced argument (SIGIL_URL set to the token)
  // must not print it.
  std::string Redact(std::string_view text) const;

 private:
  std::string url_;
  SecretBytes token_;
  ApiTransport transport_;
};

// Maps an HTTP status of the REST API to the CLI's exit status.
int ExitCodeForHttpStatus(int status);

// The CLI's exit status for a transport failure: 2 for a request that could
// not be formed (a malformed --url), 3 when the daemon was unreachable.
int ExitCodeForTransportError(const absl::Status& status);

}  // namespace sigil::cli
