#include "cli/api_client.h"

#include <cstdlib>
#include <fstream>

namespace sigil::cli {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

absl::StatusOr<ApiClient> ApiClient::FromEnvironment(const std::string& url_flag, const std::string& token_flag,
                                                     const std::string& data_dir, ApiTransport transport) {
  std::string url = url_flag;
  if (url.empty()) {
    if (const char* env = std::getenv("SIGIL_URL")) url = env;
  }
  if (url.empty()) url = "http://127.0.0.1:8700";
  while (!url.empty() && url.back() == '/') url.pop_back();

  SecretBytes token;
  if (!token_flag.empty()) {
    token = SecretBytes::CopyFrom(std::string_view(token_flag));
  } else if (const char* env = std::getenv("SIGIL_TOKEN"); env != nullptr && *env != '\0') {
    token = SecretBytes::CopyFrom(std::string_view(env));
  } else {
    std::string dir = data_dir.empty() ? ".sigil-dev" : data_dir;
    std::ifstream in(dir + "/admin.token");
    if (in) {
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      text = Trim(std::move(text));
      token = SecretBytes::CopyFrom(std::string_view(text));
      SecureWipe({reinterpret_cast<uint8_t*>(text.data()), text.size()});
    } else if (!data_dir.empty()) {
      return absl::InvalidArgumentError("no token: " + dir + "/admin.token is not readable; pass --token or SIGIL_TOKEN");
    }
  }
  return ApiClient(std::move(url), std::move(token), std::move(transport));
}

absl::StatusOr<ApiResponse> ApiClient::Call(const std::string& method, const std::string& path,
                                            const nlohmann::json& body) const {
  std::string text = body.is_null() ? std::string() : body.dump();
  return transport_(method, url_, path, text, token_);
}

int ExitCodeForHttpStatus(int status) {
  if (status >= 200 && status < 300) return kExitOk;
  if (status == 400 || status == 404 || status == 409 || status == 413 || status == 422) return kExitBadInput;
  if (status == 401 || status == 403 || status == 423 || status == 429) return kExitRefused;
  return kExitUnavailable;
}

}  // namespace sigil::cli
