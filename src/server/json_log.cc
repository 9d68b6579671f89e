#include "server/json_log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "nlohmann/json.hpp"
#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace sigil::server {
namespace {

constexpr std::string_view kTokenPrefix = "sgl_";
// A bearer token is "sgl_" + 80 hex; any run of 16 or more hex digits after
// the prefix is treated as (part of) one, so a truncated token is caught too.
constexpr size_t kTokenHexMin = 16;

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Replaces every "sgl_" followed by >= 16 hex digits with "sgl_[redacted]".
std::string Redact(std::string_view text) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    size_t hit = text.find(kTokenPrefix, pos);
    if (hit == std::string_view::npos) break;
    size_t run = hit + kTokenPrefix.size();
    size_t end = run;
    while (end < text.size() && IsHex(text[end])) ++end;
    if (end - run >= kTokenHexMin) {
      out.append(text.substr(pos, run - pos));
      out.append("[redacted]");
    } else {
      out.append(text.substr(pos, end - pos));
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string Timestamp(std::chrono::system_clock::time_point t) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long long>(us % 1000000));
  return buf;
}

class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string line = "{\"ts\":\"" + Timestamp(msg.time) + "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\"";
    // A JSON object message is merged; anything else is quoted. The check is
    // a full parse so a message that merely looks like an object cannot
    // break the line.
    bool merged = false;
    if (payload.size() >= 2 && payload.front() == '{' && payload.back() == '}' &&
        nlohmann::json::accept(payload)) {
      std::string_view inner = payload.substr(1, payload.size() - 2);
      if (inner.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        line += ",";
        line.append(inner);
      }
      merged = true;
    }
    if (!merged) {
      line += ",\"msg\":";
      line += nlohmann::json(std::string(payload)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    line += "}\n";
    if (line.find(kTokenPrefix) != std::string::npos) line = Redact(line);
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonLineFormatter>(); }
};

std::string_view BoundedView(const std::string& s, size_t n = 128) { return std::string_view(s).substr(0, n); }

// Appends `v` as a JSON string. Printable ASCII is copied as is; anything
// else goes through nlohmann::json, which escapes control characters and
// replaces invalid UTF-8 (e.g. a multi-byte character cut by BoundedView).
void AppendJsonString(std::string& out, std::string_view v) {
  const bool plain = std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
  if (plain) {
    out += '"';
    out.append(v);
    out += '"';
    return;
  }
  out += nlohmann::json(std::string(v)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

bool ContainsTokenShape(std::string_view text) { return Redact(text) != text; }

std::unique_ptr<spdlog::formatter> NewJsonLogFormatter() { return std::make_unique<JsonLineFormatter>(); }

absl::Status InstallJsonLogger(const JsonLogOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") {
    return absl::InvalidArgumentError("log level must be trace, debug, info, warn, error or off");
  }
  std::shared_ptr<spdlog::logger> logger;
  try {
    spdlog::sink_ptr sink;
    if (options.path.empty()) {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.path, /*truncate=*/false);
    }
    logger = std::make_shared<spdlog::logger>("sigil", std::move(sink));
  } catch (const spdlog::spdlog_ex& e) {
    return absl::UnavailableError(std::string("cannot open the log: ") + e.what());
  }
  logger->set_formatter(NewJsonLogFormatter());
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  return absl::OkStatus();
}

void LogAccess(const AccessLogEntry& e) {
  if (!spdlog::default_logger_raw()->should_log(spdlog::level::info)) return;
  // One line per request: written directly rather than through a json
  // object, keys in sorted order as nlohmann::json would dump them.
  std::string line = "{";
  auto key = [&line](std::string_view k) {
    if (line.size() > 1) line += ',';
    line += '"';
    line.append(k);
    line += "\":";
  };
  auto text = [&line, &key](std::string_view k, std::string_view v) {
    key(k);
    AppendJsonString(line, v);
  };
  auto number = [&line, &key](std::string_view k, int64_t v) {
    key(k);
    line += std::to_string(v);
  };
  const bool has_principal = !e.principal.empty();
  if (!e.decision.empty()) text("decision", e.decision);
  text("event", "request");
  number("latency_us", e.latency_us);
  text("method", BoundedView(e.method, 16));
  text("path", BoundedView(e.path));
  if (has_principal) text("principal", BoundedView(e.principal, 64));
  text("request_id", BoundedView(e.request_id));
  if (has_principal) text("role", e.role);
  if (e.rpc_calls > 1) number("rpc_calls", static_cast<int64_t>(e.rpc_calls));
  if (e.rpc_code != 0) number("rpc_code", e.rpc_code);
  if (!e.rpc_method.empty()) text("rpc_method", BoundedView(e.rpc_method, 64));
  if (!e.rule.empty()) text("rule", BoundedView(e.rule, 64));
  number("status", e.status);
  line += '}';
  spdlog::info(line);
}

}  // namespace sigil::server
