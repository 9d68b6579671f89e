// The `sigil` client commands: each is a thin call to the daemon's REST API
// (INTERFACE.md lists them). Local commands (server, init, offline verifiers,
// restore, mcp) are added by the daemon, which owns the concrete backends.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "cli/api_client.h"

namespace sigil::cli {

// Options shared by every client command.
struct ClientOptions {
  std::string url;
  std::string token;
  bool token_given = false;  // --token was on the command line (even empty)
  std::string data_dir;
  bool json = false;
  int exit_code = kExitOk;
  ApiTransport transport;
};

// Registers key, policy (apply/show/explain), token, approval, lockdown,
// audit (live verify/export/proof/report), attest (get/check) and backup
// create. Each sets options.exit_code when it runs.
void AddClientCommands(CLI::App& app, ClientOptions& options);

// Prints a response: raw JSON with --json, else a readable summary.
void PrintResponse(const nlohmann::json& body, bool json);

// Reads a whole file (bounded); used by commands that send documents.
absl::StatusOr<std::string> ReadFileBounded(const std::string& path, size_t max_bytes = 4 << 20);

}  // namespace sigil::cli
