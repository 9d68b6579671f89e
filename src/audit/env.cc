// Env helpers built only from the Env interface.
#include "audit/env.h"

#include "base/status.h"

namespace sigil::audit {

std::string DirName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status WriteFileAtomically(Env& env, const std::string& path, std::span<const uint8_t> data) {
  return WriteFileAtomically(env, path, [data](WritableFile& file) { return file.Append(data); });
}

absl::Status WriteFileAtomically(Env& env, const std::string& path,
                                 const std::function<absl::Status(WritableFile&)>& fill) {
  const std::string tmp = path + ".tmp";
  auto write = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto file, env.OpenWritable(tmp));
    // OpenWritable keeps old contents: drop a stale temporary first.
    RETURN_IF_ERROR(file->Truncate(0));
    RETURN_IF_ERROR(fill(*file));
    RETURN_IF_ERROR(file->Sync());
    RETURN_IF_ERROR(file->Close());
    RETURN_IF_ERROR(env.RenameFile(tmp, path));
    return env.SyncDir(DirName(path));
  };
  absl::Status status = write();
  if (!status.ok()) (void)env.RemoveFile(tmp);
  return status;
}

}  // namespace sigil::audit
