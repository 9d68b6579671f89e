// The CLI's real transport: one HTTP request per call over net::HttpClient.
#include "cli/api_client.h"
#include "base/json_bounds.h"
#include "net/http_client.h"

namespace sigil::cli {

ApiTransport HttpApiTransport() {
  return [](const std::string& method, const std::string& url, const std::string& path, const std::string& body,
            const SecretBytes& token) -> absl::StatusOr<ApiResponse> {
    net::HttpClientOptions options;
    if (const char* ca = std::getenv("SIGIL_CA_FILE")) options.ca_file = ca;
    options.max_response_body_bytes = kMaxCliResponseBytes;
    auto client = net::HttpClient::Create(url, options);
    if (!client.ok()) return client.status();
    net::HttpClientRequest request;
    request.method = method;
    request.target = path;
    request.body = body;
    if (!body.empty()) request.headers.Set("Content-Type", "application/json");
    if (!token.empty()) {
      std::string header = "Bearer ";
      header.append(token.RevealText(SecretAccess::Get()));
      request.headers.Set("Authorization", header);
      SecureWipe({reinterpret_cast<uint8_t*>(header.data()), header.size()});
    }
    auto response = (*client)->Send(request);
    if (!response.ok()) return response.status();
    ApiResponse out;
    out.http_status = response->status;
    // Nested past any real answer, copying the parsed document would
    // recurse past the stack (anything answering at --url could send it).
    if (!CheckJsonBounds(response->body, {kMaxCliResponseBytes, 64}).ok()) {
      return absl::UnavailableError("the answer from " + (*client)->url().Origin() +
                                    " is JSON nested deeper than 64 levels: not a Sigil daemon's answer");
    }
    out.body = nlohmann::json::parse(response->body, nullptr, false);
    if (out.body.is_discarded()) {
      // Redacted before it is cut: a cut through a token would leave part of it.
      out.body = nlohmann::json{{"error", RedactToken(response->body.substr(0, 4096), token).substr(0, 2000)}};
      out.text = std::move(response->body);
    }
    return out;
  };
}

}  // namespace sigil::cli
