// Where a passphrase comes from: a file named by an environment variable
// (scripts, services) or, without one, a prompt on the terminal with echo
// off (a person at a shell). INTERFACE.md: the backup passphrase comes "from
// SIGIL_BACKUP_PASSPHRASE_FILE or a prompt".
//
// Security: the passphrase lives only in SecretBytes; line buffers are wiped;
// the terminal's echo setting is restored on every path; nothing of the
// passphrase reaches an error message.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "base/secret.h"

namespace sigil::cli {

inline constexpr size_t kMaxPassphraseBytes = 4096;

// A secret file's contents, without trailing newlines. NotFound if it cannot
// be read, InvalidArgument if larger than 4 KiB. `what` names it in errors.
absl::StatusOr<SecretBytes> ReadSecretFile(const std::string& path, const std::string& what);

// From the file named by `env_var` if it is set; otherwise prompts on the
// controlling terminal (/dev/tty) for `what`, twice when `confirm` (the two
// must match). InvalidArgument when the variable is unset and there is no
// terminal to ask on, or the entries differ or are empty.
absl::StatusOr<SecretBytes> ReadPassphrase(const char* env_var, const std::string& what, bool confirm);

// One line read from `in_fd` with echo turned off if it is a terminal, after
// writing `prompt` to `out_fd`. Without a newline before end of input the
// entry is refused. Exposed for tests (which drive a pseudo-terminal).
absl::StatusOr<SecretBytes> PromptLine(int in_fd, int out_fd, const std::string& prompt);

}  // namespace sigil::cli
