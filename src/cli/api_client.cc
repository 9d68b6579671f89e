#include "cli/api_client.h"

#include <sys/stat.h>

#include <cctype>
#include <cstdlib>

#include "cli/passphrase_source.h"

namespace sigil::cli {
namespace {

// A bearer token is visible ASCII (RFC 6750 b64token). Anything else would
// be refused by the HTTP client as an invalid header, which reads like a
// transport failure; name where the token came from, never its bytes.
absl::Status CheckTokenText(const SecretBytes& token, const std::string& source) {
  for (uint8_t c : token.Reveal(SecretAccess::Get())) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError("the token from " + source +
                                        " contains spaces or control characters; a token is one word such as sgl_...");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ApiClient> ApiClient::FromEnvironment(const std::string& url_flag, const std::optional<std::string>& token_flag,
                                                     const std::string& data_dir, ApiTransport transport) {
  std::string url = url_flag;
  if (url.empty()) {
    if (const char* env = std::getenv("SIGIL_URL")) url = env;
  }
  if (url.empty()) url = "http://127.0.0.1:8700";
  while (!url.empty() && url.back() == '/') url.pop_back();

  SecretBytes token;
  std::string source;
  const char* env = std::getenv("SIGIL_TOKEN");
  // Read bounded (4 KiB) straight into SecretBytes: no stream buffer or
  // growing string leaves copies behind, and a FIFO or /dev/zero in its
  // place cannot make the CLI read forever.
  auto read_token_file = [&](const std::string& dir) {
    // A regular file only: opening a FIFO would wait for a writer forever.
    struct stat st {};
    if (::stat((dir + "/admin.token").c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    absl::StatusOr<SecretBytes> read = ReadSecretFile(dir + "/admin.token", "admin token");
    if (!read.ok()) return false;
    token = std::move(*read);
    source = dir + "/admin.token";
    return true;
  };
  // A pasted token often carries the line end of the file it came from.
  auto trimmed = [](std::string_view t) {
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.remove_suffix(1);
    return t;
  };
  if (token_flag) {
    if (trimmed(*token_flag).empty()) {
      return absl::InvalidArgumentError("--token is empty (an unset variable?); give the token, or leave --token out");
    }
    token = SecretBytes::CopyFrom(trimmed(*token_flag));
    source = "--token";
  } else if (!data_dir.empty()) {
    if (!read_token_file(data_dir)) {
      return absl::InvalidArgumentError("no token: " + data_dir + "/admin.token is not readable; pass --token or SIGIL_TOKEN");
    }
  } else if (env != nullptr) {
    if (trimmed(env).empty()) {
      return absl::InvalidArgumentError("SIGIL_TOKEN is set but empty; give the token, or unset SIGIL_TOKEN");
    }
    token = SecretBytes::CopyFrom(trimmed(env));
    source = "SIGIL_TOKEN";
  } else {
    (void)read_token_file(".sigil-dev");  // none: the daemon answers 401 and says so
  }
  if (auto st = CheckTokenText(token, source); !st.ok()) return st;
  return ApiClient(std::move(url), std::move(token), std::move(transport));
}

absl::StatusOr<ApiResponse> ApiClient::Call(const std::string& method, const std::string& path,
                                            const nlohmann::json& body) const {
  std::string text = body.is_null() ? std::string() : body.dump();
  return transport_(method, url_, path, text, token_);
}

std::string RedactTokens(std::string text) {
  for (size_t at = text.find(kTokenPrefix); at != std::string::npos; at = text.find(kTokenPrefix, at + 1)) {
    size_t end = at + kTokenPrefix.size();
    while (end < text.size() && std::isalnum(static_cast<unsigned char>(text[end]))) ++end;
    text.replace(at + kTokenPrefix.size(), end - at - kTokenPrefix.size(), "<redacted>");
  }
  return text;
}

std::string RedactToken(std::string text, const SecretBytes& secret) {
  const std::string_view token = secret.RevealText(SecretAccess::Get());
  // A token this short is no secret worth hiding, and replacing it would
  // garble the message.
  if (token.size() >= 8) {
    for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at + 7)) {
      text.replace(at, token.size(), "<token>");
    }
  }
  return RedactTokens(std::move(text));
}

std::string ApiClient::Redact(std::string_view text) const { return RedactToken(std::string(text), token_); }

int ExitCodeForHttpStatus(int status) {
  if (status >= 200 && status < 300) return kExitOk;
  if (status == 400 || status == 404 || status == 409 || status == 413 || status == 422) return kExitBadInput;
  if (status == 401 || status == 403 || status == 423 || status == 429) return kExitRefused;
  return kExitUnavailable;
}

int ExitCodeForTransportError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitBadInput : kExitUnavailable;
}

}  // namespace sigil::cli
