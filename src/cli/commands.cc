#include "cli/commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "base/hex.h"
#include "base/json_bounds.h"
#include "base/json_duplicates.h"
#include "cli/passphrase_source.h"

namespace sigil::cli {
namespace {

// JSON text of what the daemon (or whatever answers at --url) sent: bytes
// that are not UTF-8 are replaced, not thrown over (nlohmann's default
// aborts the CLI on a proxy's Latin-1 error page).
std::string Dump(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The daemon's bounds for a request body (server/api_server.cc): a document
// argument beyond them could only be refused there.
constexpr size_t kMaxJsonArgBytes = 1 << 20;
constexpr size_t kMaxJsonArgDepth = 64;

void PrintValue(std::ostream& os, const std::string& indent, const std::string& key, const nlohmann::json& v) {
  if (v.is_object()) {
    os << indent << key << ":\n";
    for (const auto& [k, inner] : v.items()) PrintValue(os, indent + "  ", k, inner);
  } else if (v.is_array()) {
    os << indent << key << ": " << (v.empty() ? "(none)" : "") << "\n";
    for (const auto& item : v) {
      if (item.is_object()) {
        std::string line;
        for (const auto& [k, inner] : item.items()) {
          if (!line.empty()) line += "  ";
          line += k + "=" + (inner.is_string() ? inner.get<std::string>() : Dump(inner));
        }
        os << indent << "  - " << line << "\n";
      } else {
        os << indent << "  - " << (item.is_string() ? item.get<std::string>() : Dump(item)) << "\n";
      }
    }
  } else {
    os << indent << key << ": " << (v.is_string() ? v.get<std::string>() : Dump(v)) << "\n";
  }
}

void PrintReadable(std::ostream& os, const nlohmann::json& body) {
  if (body.is_object()) {
    for (const auto& [k, v] : body.items()) PrintValue(os, "", k, v);
  } else {
    PrintValue(os, "", "result", body);
  }
}

// Ends a command with `code`: the message on stderr and, with --json, as
// {"error": message} on stdout, so a script reading stdout gets one JSON
// document whatever happened.
void Fail(ClientOptions& o, int code, const std::string& message) {
  std::cerr << "sigil: " << message << "\n";
  if (o.json) std::cout << Dump(nlohmann::json{{"error", message}}, 2) << "\n";
  o.exit_code = code;
}

void BadInput(ClientOptions& o, const absl::Status& st) { Fail(o, kExitBadInput, std::string(st.message())); }

// A refusal or error answered by the daemon: its message on stderr, with
// whatever else it said (the errors of an invalid policy) below it; with
// --json the whole answer on stdout.
void ReportDaemonError(ClientOptions& o, const ApiClient& client, int http_status, const nlohmann::json& b) {
  const bool has_message = b.is_object() && b.contains("error") && b["error"].is_string();
  std::cerr << "sigil: "
            << client.Redact(has_message ? b["error"].get<std::string>()
                                         : "the daemon answered HTTP " + std::to_string(http_status))
            << "\n";
  if (o.json) {
    std::cout << client.Redact(Dump(b, 2)) << "\n";
    return;
  }
  if (!b.is_object()) return;
  nlohmann::json rest = b;
  rest.erase("error");
  if (!rest.empty()) {
    std::ostringstream details;
    PrintReadable(details, rest);
    std::cerr << client.Redact(details.str());
  }
}

// The client for this invocation, or nullopt after Fail() (no usable token).
std::optional<ApiClient> Connect(ClientOptions& o) {
  auto client = ApiClient::FromEnvironment(o.url, o.token_given ? std::optional(o.token) : std::nullopt, o.data_dir,
                                          o.transport);
  if (!client.ok()) {
    Fail(o, kExitBadInput, std::string(client.status().message()));
    return std::nullopt;
  }
  return std::move(*client);
}

// One request; nullopt after Fail() when the daemon was not reached.
std::optional<ApiResponse> Send(ClientOptions& o, const ApiClient& client, const std::string& method, const std::string& path,
                                const nlohmann::json& body) {
  auto response = client.Call(method, path, body);
  if (!response.ok()) {
    Fail(o, ExitCodeForTransportError(response.status()), client.Redact(std::string(response.status().message())));
    return std::nullopt;
  }
  return std::move(*response);
}

// Runs one REST call and records the outcome in options.exit_code. A
// failure's message goes to stderr (with --json the body also goes to
// stdout); a success's body is printed unless `print_success` is false.
// Returns the response body (null when there was none).
nlohmann::json RunAndGet(ClientOptions& o, const std::string& method, const std::string& path,
                         const nlohmann::json& body = nullptr, bool print_success = true) {
  auto client = Connect(o);
  if (!client) return nullptr;
  auto response = Send(o, *client, method, path, body);
  if (!response) return nullptr;
  o.exit_code = ExitCodeForHttpStatus(response->http_status);
  const auto& b = response->body;
  if (o.exit_code != kExitOk) {
    ReportDaemonError(o, *client, response->http_status, b);
    return b;
  }
  if (print_success) PrintResponse(b, o.json);
  return b;
}

// Refuses an --out path whose folder does not exist before the daemon is
// asked for anything (a backup made and then not written wastes the
// passphrase prompt and leaves an audit record of a backup nobody has).
absl::Status CheckOutputPath(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("--out needs a file name");
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec)) {
    return absl::InvalidArgumentError("cannot write " + path + ": " + folder.string() + " is not a folder");
  }
  if (std::filesystem::is_directory(path, ec)) return absl::InvalidArgumentError("cannot write " + path + ": it is a folder");
  return absl::OkStatus();
}

// A file written in full under a temporary name beside its path, synced,
// and not yet renamed into place.
struct StagedFile {
  std::string tmp;
  std::string path;
};

// Writes `bytes` to a new temporary file beside `path` (created with `mode`,
// never following a link) and syncs it. Returns the exit status as
// WriteOutputFile does; on failure the reason is on stderr and nothing is
// left behind.
int StageOutputFile(ClientOptions& o, const std::string& path, std::string_view bytes, mode_t mode, StagedFile* staged) {
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    const int err = errno;
    const int code = err == ENOSPC || err == EIO || err == EDQUOT ? kExitUnavailable : kExitBadInput;
    Fail(o, code, "cannot write " + path + ": " + std::strerror(err));
    return code;
  }
  int err = 0;
  bool ok = ::fchmod(fd, mode) == 0;
  for (size_t done = 0; ok && done < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
    if (n == 0) err = ENOSPC;  // no progress and no errno: say why, not a stale one
  }
  ok = ok && ::fsync(fd) == 0;
  if (!ok && err == 0) err = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    Fail(o, kExitUnavailable, "cannot write " + path + ": " + std::strerror(err != 0 ? err : EIO));
    return kExitUnavailable;
  }
  *staged = StagedFile{tmp, path};
  return kExitOk;
}

void DiscardStagedFiles(const std::vector<StagedFile>& files) {
  for (const StagedFile& f : files) ::unlink(f.tmp.c_str());
}

// Renames every staged file into place, then syncs the folders so the
// renames are durable. Nothing is renamed before every file was written in
// full (see StageOutputFile), so a failure while writing leaves the old
// files as they were; a rename that fails (rare: a folder in the way)
// stops there, removes the temporaries not renamed and says which files
// are new.
int CommitStagedFiles(ClientOptions& o, const std::vector<StagedFile>& files) {
  for (size_t i = 0; i < files.size(); ++i) {
    if (::rename(files[i].tmp.c_str(), files[i].path.c_str()) != 0) {
      const int err = errno;
      DiscardStagedFiles({files.begin() + static_cast<std::ptrdiff_t>(i), files.end()});
      std::string done;
      for (size_t j = 0; j < i; ++j) done += (j ? ", " : "") + files[j].path;
      Fail(o, kExitUnavailable,
           "cannot write " + files[i].path + ": " + std::strerror(err) +
               (done.empty() ? std::string() : " (already replaced: " + done + ")"));
      return kExitUnavailable;
    }
  }
  std::set<std::string> folders;
  for (const StagedFile& f : files) {
    const std::filesystem::path parent = std::filesystem::path(f.path).parent_path();
    folders.insert(parent.empty() ? std::string(".") : parent.string());
  }
  for (const std::string& folder : folders) {
    if (int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
  }
  return kExitOk;
}

// The most shares a backup has (backup_share.h: index 1..255).
constexpr size_t kMaxBackupShares = 255;

// The backup id a share file names, read from its first two lines only
//   sigil-backup-share 1
//   backup-id <32 hex digits>
// (the secret share line comes later and is never read); nullopt when
// `path` is not a regular file (a link is not followed) that begins so.
std::optional<std::string> ShareFileBackupId(const std::string& path) {
  static constexpr std::string_view kMagic = "sigil-backup-share 1\nbackup-id ";
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  char head[kMagic.size() + 33];
  size_t len = 0;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    while (len < sizeof head) {
      const ssize_t n = ::read(fd, head + len, sizeof head - len);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      len += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  const std::string_view text(head, len);
  if (len != sizeof head || !text.starts_with(kMagic) || text.back() != '\n') return std::nullopt;
  std::string id(text.substr(kMagic.size(), 32));
  for (char& c : id) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return id;
}

// After a backup with `share_count` shares (0: a passphrase backup) was
// written to `out`, replacing the backup whose shares carry `replaced_id`
// (read from OUT.1 before the new files were put in place): the files OUT.k
// above share_count that the replaced backup, split into more shares, left
// there. Each is removed only if it is a regular file holding a share of
// that very backup, whose backup file is gone; anything else named so (a
// share of another backup, which may live on elsewhere; a file that is not
// a share; a link or device, never opened) is left and named on stderr.
// Returns the removed paths.
std::vector<std::string> RemoveStaleShares(const std::string& out, size_t share_count,
                                           const std::optional<std::string>& replaced_id) {
  std::vector<std::string> removed;
  for (size_t k = share_count + 1; k <= kMaxBackupShares; ++k) {
    const std::string path = out + "." + std::to_string(k);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode)) {
      std::cerr << "sigil: left " << path << " in place: it is not a regular file\n";
      continue;
    }
    const std::optional<std::string> id = ShareFileBackupId(path);
    if (!id || !replaced_id || *id != *replaced_id) {
      std::cerr << "sigil: left " << path << " in place: it is not a share of the backup just replaced\n";
      continue;
    }
    if (::unlink(path.c_str()) != 0) {
      std::cerr << "sigil: cannot remove " << path << ", a share of an older backup: " << std::strerror(errno) << "\n";
      continue;
    }
    removed.push_back(path);
  }
  return removed;
}

bool IsRegularOrAbsent(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode);
}

// Writes `bytes` to `path` with `mode` from the first byte on (a backup is
// never briefly readable by others): into a new temporary file beside it,
// synced, then renamed over `path`, so an existing file (yesterday's backup)
// is replaced only by a complete new one. Returns the exit status: 0, 2 if
// the file cannot be created there (a bad --out), 3 if writing it failed
// (disk full, I/O error); the reason is on stderr and the temporary file
// removed.
int WriteOutputFile(ClientOptions& o, const std::string& path, std::string_view bytes, mode_t mode) {
  if (!IsRegularOrAbsent(path)) {
    // A device or pipe (--out /dev/stdout): written as is.
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      Fail(o, kExitUnavailable, "cannot write " + path);
      return kExitUnavailable;
    }
    return kExitOk;
  }
  StagedFile staged;
  if (int code = StageOutputFile(o, path, bytes, mode, &staged); code != kExitOk) return code;
  return CommitStagedFiles(o, {staged});
}

void Run(ClientOptions& o, const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) {
  (void)RunAndGet(o, method, path, body);
}

// A name or id that becomes a path segment. An empty one made another
// request: `key show ""` listed every key (exit 0), `key rotate ""` reached
// no route (405, exit 3).
CLI::Validator NonEmpty() {
  return CLI::Validator([](std::string& v) { return v.empty() ? std::string("must not be empty") : std::string(); },
                        "", "NonEmpty");
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

// Parses a document argument (`option` names it in errors) that is inline
// JSON or @file / a file path. The text is bounded like the daemon bounds a
// request body (1 MiB, nesting 64) before it is parsed: the document is
// copied into the request and dumped, both recursive, so a deeply nested
// file (200,000 '[') overflowed the stack.
absl::StatusOr<nlohmann::json> JsonArg(const std::string& option, const std::string& arg) {
  std::string text = arg;
  if (!arg.empty() && arg[0] == '@') {
    auto t = ReadFileBounded(arg.substr(1), kMaxJsonArgBytes);
    if (!t.ok()) return absl::InvalidArgumentError(option + ": " + std::string(t.status().message()));
    text = *t;
  } else if (!arg.empty() && arg[0] != '{' && arg[0] != '[' && arg[0] != '"') {
    auto t = ReadFileBounded(arg, kMaxJsonArgBytes);
    if (!t.ok()) {
      return absl::InvalidArgumentError(option + ": expected inline JSON (starting with { or [), @FILE or a file path; " +
                                        std::string(t.status().message()));
    }
    text = *t;
  }
  if (auto st = CheckJsonBounds(text, {kMaxJsonArgBytes, kMaxJsonArgDepth}); !st.ok()) {
    return absl::InvalidArgumentError(option + ": " + std::string(st.message()));
  }
  JsonParsed<nlohmann::json> parsed = ParseNotingDuplicates(text);
  if (parsed.doc.is_discarded()) return absl::InvalidArgumentError(option + ": not valid JSON: " + arg.substr(0, 60));
  // Re-sent as an object, a repeated name would reach the daemon resolved
  // (last one wins), and explain would judge another request than the file's.
  if (!parsed.duplicates.empty()) {
    return absl::InvalidArgumentError(option + ": " + DuplicateKeyMessage(parsed.duplicates.front(), "the JSON"));
  }
  return std::move(parsed.doc);
}

}  // namespace

absl::StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes) {
  // read(2), not an ifstream: a folder opens as a stream and reads as empty,
  // which then failed as "not valid JSON ... unexpected end of input".
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError("cannot read " + path + ": " + std::strerror(errno));
  std::string text;
  text.resize(max_bytes + 1);
  size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return absl::InvalidArgumentError("cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  if (text.size() > max_bytes) return absl::InvalidArgumentError(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  return text;
}

void PrintResponse(const nlohmann::json& body, bool json) {
  if (json) {
    std::cout << Dump(body, 2) << "\n";
    return;
  }
  PrintReadable(std::cout, body);
}

void AddClientCommands(CLI::App& app, ClientOptions& o) {
  auto common = [&o](CLI::App* cmd) {
    cmd->add_option("--url", o.url, "daemon URL (http://, https:// or unix:PATH); default $SIGIL_URL");
    cmd->add_option("--token", o.token, "bearer token; default $SIGIL_TOKEN or DATA/admin.token")
        ->each([&o](const std::string&) { o.token_given = true; });
    cmd->add_option("--data", o.data_dir, "data directory whose admin.token to use");
    cmd->add_flag("--json", o.json, "print machine-readable JSON");
  };
  // Arguments live as long as the app; CLI11 binds options to them.
  auto args = std::make_shared<std::map<std::string, std::string>>();
  auto list_args = std::make_shared<std::map<std::string, std::vector<std::string>>>();
  auto flags = std::make_shared<std::map<std::string, bool>>();
  app.callback([args, list_args, flags] {});  // keeps the shared state alive with the app

  // --- keys
  auto* key = app.add_subcommand("key", "create, list, show and rotate keys")->require_subcommand(1);
  {
    auto* c = key->add_subcommand("create", "create a key inside Sigil");
    c->add_option("name", (*args)["key.name"], "key name")->required();
    (*args)["key.type"] = "secp256k1";
    (*args)["key.backend"] = "";  // the daemon's keystore.backend
    c->add_option("--type", (*args)["key.type"], "secp256k1 | ed25519 | schnorr");
    c->add_option("--backend", (*args)["key.backend"], "software | pkcs11 (default: the daemon's keystore.backend)");
    common(c);
    c->callback([&o, args] {
      Run(o, "POST", "/v1/keys", {{"name", (*args)["key.name"]}, {"type", (*args)["key.type"]}, {"backend", (*args)["key.backend"]}});
    });
    auto* l = key->add_subcommand("list", "list keys (and the audit and attestation public keys)");
    common(l);
    l->callback([&o] { Run(o, "GET", "/v1/keys"); });
    auto* s = key->add_subcommand("show", "show one key");
    s->add_option("name", (*args)["key.show"], "key name, address or public key")->required()->check(NonEmpty());
    common(s);
    s->callback([&o, args] { Run(o, "GET", "/v1/keys/" + Escape((*args)["key.show"])); });
    auto* r = key->add_subcommand("rotate", "new version of a key; the old one becomes verify-only");
    r->add_option("name", (*args)["key.rotate"], "key name")->required()->check(NonEmpty());
    common(r);
    r->callback([&o, args] { Run(o, "POST", "/v1/keys/" + Escape((*args)["key.rotate"]) + "/rotate", nlohmann::json::object()); });
    auto* imp = key->add_subcommand("import", "import a raw private key (admin; off unless allow_key_import)");
    imp->add_option("name", (*args)["import.name"], "key name")->required();
    (*args)["import.type"] = "secp256k1";
    imp->add_option("--type", (*args)["import.type"], "secp256k1 | ed25519 | schnorr");
    imp->add_option("--key-file", (*args)["import.file"], "file holding the hex private key")->required();
    common(imp);
    imp->callback([&o, args] {
      auto text = ReadFileBounded((*args)["import.file"], 4096);
      if (!text.ok()) return BadInput(o, text.status());
      std::string hex = *text;
      while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) hex.pop_back();
      Run(o, "POST", "/v1/keys/import", {{"name", (*args)["import.name"]}, {"type", (*args)["import.type"]}, {"private_key", hex}});
      SecureWipe({reinterpret_cast<uint8_t*>(hex.data()), hex.size()});
      SecureWipe({reinterpret_cast<uint8_t*>(text->data()), text->size()});
    });
  }

  // --- policy (apply, show, explain; `policy test` is local and added by the daemon)
  auto* policy = app.add_subcommand("policy", "apply, show, test and explain policies")->require_subcommand(1);
  {
    auto* a = policy->add_subcommand("apply", "apply a policy document (admin)");
    a->add_option("file", (*args)["policy.file"], "policy JSON file")->required();
    common(a);
    a->callback([&o, args] {
      auto text = ReadFileBounded((*args)["policy.file"]);
      if (!text.ok()) return BadInput(o, text.status());
      // Sent as text, unparsed: the daemon bounds it and reports errors with
      // their line and column.
      Run(o, "POST", "/v1/policy", {{"document_text", *text}});
    });
    auto* s = policy->add_subcommand("show", "show the policy in force");
    common(s);
    s->callback([&o] { Run(o, "GET", "/v1/policy"); });
    auto* e = policy->add_subcommand("explain", "dry run: decision, rule, reason and budgets; signs nothing");
    e->add_option("--key", (*args)["explain.key"], "key name or address")->required();
    auto* tx_opt = e->add_option("--tx", (*args)["explain.tx"], "transaction JSON (inline, @file or a path)");
    auto* msg_opt = e->add_option("--message", (*args)["explain.message"], "personal_sign message text");
    auto* td_opt = e->add_option("--typed-data", (*args)["explain.typed"], "EIP-712 JSON (inline, @file or a path)");
    // One request per dry run: given two, which one was explained?
    tx_opt->excludes(msg_opt)->excludes(td_opt);
    msg_opt->excludes(td_opt);
    common(e);
    e->callback([&o, args] {
      nlohmann::json body = {{"key", (*args)["explain.key"]}};
      if (!(*args)["explain.tx"].empty()) {
        auto tx = JsonArg("--tx", (*args)["explain.tx"]);
        if (!tx.ok()) return BadInput(o, tx.status());
        body["kind"] = "eth_tx";
        body["tx"] = *tx;
      } else if (!(*args)["explain.message"].empty()) {
        body["kind"] = "eth_message";
        body["message"] = (*args)["explain.message"];
      } else if (!(*args)["explain.typed"].empty()) {
        auto td = JsonArg("--typed-data", (*args)["explain.typed"]);
        if (!td.ok()) return BadInput(o, td.status());
        body["kind"] = "eth_typed_data";
        body["typed_data"] = *td;
      } else {
        return BadInput(o, absl::InvalidArgumentError("give one of --tx, --message or --typed-data"));
      }
      Run(o, "POST", "/v1/policy/explain", body);
    });
    auto* sg = policy->add_subcommand("suggest", "propose a tighter policy from the signing history");
    common(sg);
    sg->callback([&o] { Run(o, "GET", "/v1/policy/suggest"); });
  }

  // --- tokens
  auto* token = app.add_subcommand("token", "issue, list and revoke bearer tokens")->require_subcommand(1);
  {
    auto* c = token->add_subcommand("create", "issue a token (printed once)");
    c->add_option("--role", (*args)["token.role"], "admin | operator | approver | auditor | agent")->required();
    c->add_option("--keys", (*args)["token.keys"], "comma-separated key names the token may use");
    c->add_option("--name", (*args)["token.name"], "principal name (e.g. bot-1)");
    c->add_option("--expires", (*args)["token.expires"], "lifetime, e.g. 30d or 12h");
    c->add_option("--rate", (*args)["token.rate"], "request rate limit, e.g. 10/s, 600/m or 20/10s");
    common(c);
    c->callback([&o, args] {
      nlohmann::json body = {{"role", (*args)["token.role"]}};
      if (!(*args)["token.name"].empty()) body["name"] = (*args)["token.name"];
      if (!(*args)["token.expires"].empty()) body["expires"] = (*args)["token.expires"];
      if (!(*args)["token.rate"].empty()) body["rate"] = (*args)["token.rate"];
      nlohmann::json keys = nlohmann::json::array();
      std::stringstream ss((*args)["token.keys"]);
      for (std::string k; std::getline(ss, k, ',');) {
        if (!k.empty()) keys.push_back(k);
      }
      body["keys"] = keys;
      Run(o, "POST", "/v1/tokens", body);
    });
    auto* l = token->add_subcommand("list", "list tokens (never their values)");
    common(l);
    l->callback([&o] { Run(o, "GET", "/v1/tokens"); });
    auto* r = token->add_subcommand("revoke", "revoke a token by principal name");
    r->add_option("name", (*args)["token.revoke"])->required()->check(NonEmpty());
    common(r);
    r->callback([&o, args] { Run(o, "DELETE", "/v1/tokens/" + Escape((*args)["token.revoke"])); });
    auto* t = token->add_subcommand("totp", "enrol a TOTP second factor for a principal; prints an otpauth:// URI");
    t->add_option("name", (*args)["token.totp"])->required()->check(NonEmpty());
    common(t);
    t->callback([&o, args] { Run(o, "POST", "/v1/tokens/" + Escape((*args)["token.totp"]) + "/totp", nlohmann::json::object()); });
  }

  // --- approvals
  auto* approval = app.add_subcommand("approval", "list, approve and reject held requests")->require_subcommand(1);
  {
    auto* l = approval->add_subcommand("list", "pending approvals");
    common(l);
    l->callback([&o] { Run(o, "GET", "/v1/approvals"); });
    auto* s = approval->add_subcommand("show", "one approval");
    s->add_option("id", (*args)["approval.show"])->required()->check(NonEmpty());
    common(s);
    s->callback([&o, args] { Run(o, "GET", "/v1/approvals/" + Escape((*args)["approval.show"])); });
    auto* a = approval->add_subcommand("approve", "approve a held request");
    a->add_option("id", (*args)["approval.id"])->required()->check(NonEmpty());
    a->add_option("--totp", (*args)["approval.totp"], "current TOTP code");
    common(a);
    a->callback([&o, args] {
      nlohmann::json body = nlohmann::json::object();
      if (!(*args)["approval.totp"].empty()) body["totp"] = (*args)["approval.totp"];
      Run(o, "POST", "/v1/approvals/" + Escape((*args)["approval.id"]) + "/approve", body);
    });
    auto* r = approval->add_subcommand("reject", "reject a held request");
    r->add_option("id", (*args)["approval.reject"])->required()->check(NonEmpty());
    r->add_option("--reason", (*args)["approval.reason"]);
    common(r);
    r->callback([&o, args] {
      Run(o, "POST", "/v1/approvals/" + Escape((*args)["approval.reject"]) + "/reject", {{"reason", (*args)["approval.reason"]}});
    });
  }

  // --- lockdown
  auto* lockdown = app.add_subcommand("lockdown", "emergency stop of all signing")->require_subcommand(1);
  {
    auto* on = lockdown->add_subcommand("on", "stop all signing now");
    on->add_option("--reason", (*args)["lockdown.reason"]);
    common(on);
    on->callback([&o, args] { Run(o, "POST", "/v1/lockdown", {{"on", true}, {"reason", (*args)["lockdown.reason"]}}); });
    auto* off = lockdown->add_subcommand("off", "lift lockdown (admin with TOTP)");
    off->add_option("--totp", (*args)["lockdown.totp"], "admin's current TOTP code")->required();
    common(off);
    off->callback([&o, args] { Run(o, "POST", "/v1/lockdown", {{"on", false}, {"totp", (*args)["lockdown.totp"]}}); });
    auto* st = lockdown->add_subcommand("status", "is lockdown in force");
    common(st);
    st->callback([&o] { Run(o, "GET", "/v1/lockdown"); });
  }

  // --- backup create (restore is local, added by the daemon)
  auto* backup = app.add_subcommand("backup", "encrypted backups of the software keystore")->require_subcommand(1);
  {
    auto* c = backup->add_subcommand("create", "write an encrypted backup");
    c->add_option("--out", (*args)["backup.out"], "output file (with --shares, also FILE.1 ... FILE.N)")->required();
    c->add_option("--shares", (*args)["backup.shares"], "M/N: split into N shares, any M restore");
    common(c);
    c->callback([&o, args] {
      const std::string& out = (*args)["backup.out"];
      if (auto st = CheckOutputPath(out); !st.ok()) return BadInput(o, st);
      nlohmann::json body = nlohmann::json::object();
      const std::string& shares = (*args)["backup.shares"];
      const bool to_device = !IsRegularOrAbsent(out);
      if (to_device && !shares.empty()) {
        // The shares go beside the backup as FILE.1 ... FILE.N: beside
        // /dev/stdout they would land in /dev.
        return BadInput(o, absl::InvalidArgumentError("--shares needs --out to name a file (the shares are written "
                                                      "beside it as FILE.1 ... FILE.N), not " + out));
      }
      size_t share_count = 0;
      if (!shares.empty()) {
        // Whole numbers only: "2/3x" or "2.5/3" is a typo, not 2 of 3.
        std::vector<std::string> parts = absl::StrSplit(shares, '/');
        int m = 0, n = 0;
        if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &m) || !absl::SimpleAtoi(parts[1], &n)) {
          return BadInput(o, absl::InvalidArgumentError("--shares takes M/N, e.g. 3/5"));
        }
        body["shares"] = {{"m", m}, {"n", n}};
        share_count = static_cast<size_t>(n);
      } else {
        auto pass = ReadPassphrase("SIGIL_BACKUP_PASSPHRASE_FILE", "backup passphrase", /*confirm=*/true);
        if (!pass.ok()) return BadInput(o, pass.status());
        body["passphrase"] = std::string(pass->RevealText(SecretAccess::Get()));
      }
      nlohmann::json reply = RunAndGet(o, "POST", "/v1/backup", body, /*print_success=*/false);
      if (body.contains("passphrase")) {
        std::string& pass = body["passphrase"].get_ref<std::string&>();
        SecureWipe({reinterpret_cast<uint8_t*>(pass.data()), pass.size()});
      }
      body.clear();
      if (o.exit_code != kExitOk) return;
      // The daemon sends the backup file base64-encoded (it is binary). A
      // shared backup is that file plus N share files: restore needs the
      // file and any M shares.
      std::string file;
      if (!reply.is_object() || !absl::Base64Unescape(reply.value("file_base64", std::string()), &file) || file.empty()) {
        return Fail(o, kExitUnavailable, "the daemon sent a malformed backup");
      }
      std::vector<std::pair<std::string, std::string>> contents = {{out, std::move(file)}};
      const size_t shares_sent = reply.contains("shares") && reply["shares"].is_array() ? reply["shares"].size() : 0;
      if (shares_sent != share_count) {
        return Fail(o, kExitUnavailable, "the daemon sent " + std::to_string(shares_sent) + " shares for " +
                                             std::to_string(share_count) + " asked");
      }
      if (share_count > 0) {
        int i = 1;
        for (const auto& share : reply["shares"]) {
          if (!share.is_string()) return Fail(o, kExitUnavailable, "the daemon sent a malformed share");
          contents.emplace_back(out + "." + std::to_string(i++), share.get<std::string>());
        }
      }
      std::vector<std::string> written;
      for (const auto& [path, bytes] : contents) written.push_back(path);
      std::optional<std::string> replaced_id;
      // Files are written 0600: a share or backup is sensitive even encrypted.
      if (to_device) {
        if (WriteOutputFile(o, out, contents[0].second, 0600) != kExitOk) return;  // it said why
      } else {
        // All written before any is renamed into place: a failure midway
        // (a full disk) leaves yesterday's backup and shares as they were,
        // not a new file beside old shares.
        // Whose shares the new files replace: their backup file is about to
        // be replaced, so its shares above the new count are of no use.
        replaced_id = ShareFileBackupId(out + ".1");
        std::vector<StagedFile> staged;
        for (const auto& [path, bytes] : contents) {
          StagedFile f;
          if (StageOutputFile(o, path, bytes, 0600, &f) != kExitOk) {
            DiscardStagedFiles(staged);
            return;  // it said why
          }
          staged.push_back(std::move(f));
        }
        if (CommitStagedFiles(o, staged) != kExitOk) return;
      }
      const std::string backup_id = absl::AsciiStrToLower(reply.value("backup_id", ""));
      nlohmann::json summary = {{"files", written}, {"keys", reply.value("keys", 0)}, {"backup_id", backup_id}};
      if (!to_device) {
        // The new backup is in place: shares an earlier, larger split left
        // beside it (FILE.4 after 2/3 replaced 3/5) belong to a backup file
        // that is gone, and would be mistaken for shares of this one.
        std::vector<std::string> stale = RemoveStaleShares(out, share_count, replaced_id);
        if (!stale.empty()) summary["removed_stale_shares"] = stale;
      }
      if (to_device) {
        // The backup itself went to the device (often stdout): the summary
        // goes to stderr, so it does not end up inside the backup.
        std::cerr << Dump(summary, 2) << "\n";
      } else {
        PrintResponse(summary, o.json);
      }
    });
  }

  // --- audit (live); `audit verify --file` is local and handled by the daemon
  auto* audit = app.add_subcommand("audit", "verify and export the audit log")->require_subcommand(1);
  {
    auto* v = audit->add_subcommand("verify", "verify the live log, or an export offline with --file/--pubkey");
    v->add_option("--file", (*args)["audit.file"], "an exported log to verify offline");
    v->add_option("--pubkey", (*args)["audit.pubkey"], "the audit public key (hex) to verify against");
    common(v);
    v->callback([&o, args] {
      if (!(*args)["audit.file"].empty()) return;  // handled by the offline verifier (daemon)
      auto client = Connect(o);
      if (!client) return;
      auto response = Send(o, *client, "GET", "/v1/audit/verify", nullptr);
      if (!response) return;
      // The daemon answers a log that does not verify with 409 and the
      // report. That is the verdict asked for, not bad input: the report,
      // and exit 1 as `audit verify --file` does for an export.
      const nlohmann::json& report = response->body;
      const int status = response->http_status;
      if ((status == 200 || status == 409) && report.is_object() && report.contains("valid") && report["valid"].is_boolean()) {
        PrintResponse(report, o.json);
        o.exit_code = report["valid"].get<bool>() ? kExitOk : kExitRefused;
        if (o.exit_code != kExitOk) std::cerr << "sigil: the audit log does not verify (see errors)\n";
        if (report.contains("recovered") && report["recovered"].is_array() && !report["recovered"].empty()) {
          std::cerr << "sigil: note: the daemon recovered the log " << report["recovered"].size()
                    << " time(s); the records no checkpoint covered then were not vouched for when written "
                       "(see \"recovered\" and doc/audit-log.md)\n";
        }
        if (report.contains("discontinuities") && report["discontinuities"].is_array() &&
            !report["discontinuities"].empty()) {
          std::cerr << "sigil: note: the log begins or resumes " << report["discontinuities"].size()
                    << " time(s) after a log that was lost (started with --accept-audit-log-loss); its earlier "
                       "history is not in this file (see \"discontinuities\" and doc/audit-log.md)\n";
        }
        return;
      }
      o.exit_code = ExitCodeForHttpStatus(status);
      if (o.exit_code != kExitOk) return ReportDaemonError(o, *client, status, report);
      PrintResponse(report, o.json);
    });
    auto* e = audit->add_subcommand("export", "export the log with its checkpoints");
    e->add_option("--out", (*args)["audit.out"], "output file")->required();
    common(e);
    e->callback([&o, args] {
      if (auto st = CheckOutputPath((*args)["audit.out"]); !st.ok()) return BadInput(o, st);
      nlohmann::json reply = RunAndGet(o, "GET", "/v1/audit/export", nullptr, /*print_success=*/false);
      if (o.exit_code != kExitOk) return;
      auto bytes = HexDecode(reply.is_object() ? reply.value("export_hex", "") : "");
      if (!bytes.ok()) return Fail(o, kExitUnavailable, "the daemon sent a malformed export");
      if (WriteOutputFile(o, (*args)["audit.out"], {reinterpret_cast<const char*>(bytes->data()), bytes->size()}, 0644) !=
          kExitOk) {
        return;
      }
      PrintResponse({{"file", (*args)["audit.out"]}, {"records", reply.value("records", 0)},
                     {"pubkey", reply.value("pubkey", "")}},
                    o.json);
    });
    auto* p = audit->add_subcommand("proof", "inclusion proof for a record, or consistency between two sizes");
    p->add_option("--seq", (*args)["audit.seq"]);
    p->add_option("--from", (*args)["audit.from"]);
    p->add_option("--to", (*args)["audit.to"]);
    common(p);
    p->callback([&o, args] {
      std::string q = !(*args)["audit.seq"].empty() ? "seq=" + Escape((*args)["audit.seq"])
                                                      : "from=" + Escape((*args)["audit.from"]) + "&to=" + Escape((*args)["audit.to"]);
      Run(o, "GET", "/v1/audit/proof?" + q);
    });
    auto* r = audit->add_subcommand("report", "compliance report per agent and time range");
    r->add_option("--agent", (*args)["report.agent"]);
    r->add_option("--since", (*args)["report.since"], "unix seconds");
    r->add_option("--until", (*args)["report.until"], "unix seconds");
    (*args)["report.format"] = "json";
    r->add_option("--format", (*args)["report.format"], "json | csv")->check(CLI::IsMember({"json", "csv"}));
    common(r);
    r->callback([&o, args] {
      const bool csv = (*args)["report.format"] == "csv";
      if (csv && o.json) return BadInput(o, absl::InvalidArgumentError("--json and --format csv exclude each other"));
      const std::string path = "/v1/audit/report?agent=" + Escape((*args)["report.agent"]) +
                               "&since=" + Escape((*args)["report.since"]) + "&until=" + Escape((*args)["report.until"]) +
                               "&format=" + Escape((*args)["report.format"]);
      if (!csv) return Run(o, "GET", path);
      // The CSV report is not JSON: printed as sent (it was shown as an
      // "error:" line, since a body that is not JSON reads as an error).
      auto client = Connect(o);
      if (!client) return;
      auto response = Send(o, *client, "GET", path, nullptr);
      if (!response) return;
      o.exit_code = ExitCodeForHttpStatus(response->http_status);
      if (o.exit_code != kExitOk) return ReportDaemonError(o, *client, response->http_status, response->body);
      std::cout << response->text;
    });
  }

  // --- attestation (get, check; verify is local)
  auto* attest = app.add_subcommand("attest", "attestation reports")->require_subcommand(1);
  {
    auto* g = attest->add_subcommand("get", "fetch a signed attestation report");
    g->add_option("--nonce", (*args)["attest.nonce"], "hex nonce chosen by the verifier")->required();
    g->add_option("--out", (*args)["attest.out"], "write the report to FILE");
    common(g);
    g->callback([&o, args] {
      const std::string& out = (*args)["attest.out"];
      if (!out.empty()) {
        if (auto st = CheckOutputPath(out); !st.ok()) return BadInput(o, st);
      }
      nlohmann::json report = RunAndGet(o, "POST", "/v1/attest", {{"nonce", (*args)["attest.nonce"]}}, /*print_success=*/false);
      if (o.exit_code != kExitOk) return;
      // Written first, printed after: a report that could not be saved is
      // an error, with nothing on stdout that looks like success.
      if (!out.empty() && WriteOutputFile(o, out, Dump(report, 2) + "\n", 0644) != kExitOk) return;
      PrintResponse(report, o.json);
    });
    auto* c = attest->add_subcommand("check", "check the environment Sigil runs in");
    common(c);
    c->callback([&o] {
      // A failing check is a refusal: `sigil attest check && ...` stops.
      nlohmann::json report = RunAndGet(o, "GET", "/v1/attest/check");
      const bool failed = report.is_object() && report.contains("valid") && report["valid"].is_boolean() &&
                          !report["valid"].get<bool>();
      if (o.exit_code != kExitOk || !failed) return;
      o.exit_code = kExitRefused;
      // Say why on stderr too: a script sees exit 1 and, without this, no
      // message at all.
      std::string names;
      for (const auto& check : report.value("checks", nlohmann::json::array())) {
        if (!check.is_object() || check.value("ok", true)) continue;
        names += (names.empty() ? "" : ", ") + check.value("name", std::string("?"));
      }
      std::cerr << "sigil: the environment check failed" << (names.empty() ? "" : ": " + names) << "\n";
    });
  }
}

}  // namespace sigil::cli
