// Where the running program lives. The polyglot's shell launcher runs a native build
// extracted from (or stored beside) the outer file and passes the outer file's path in the
// environment variable MMOJO_SELF; a plain native build finds itself through the OS
// (/proc/self/exe on Linux, GetModuleFileNameW on Windows, _NSGetExecutablePath on macOS).
// The outer file carries the ZIP with the UI, the default args and maybe a model.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace mmojo {

inline constexpr const char* kSelfEnvVar = "MMOJO_SELF";

// MMOJO_SELF when set and non-empty, else executable_path(). Throws std::runtime_error
// when neither is available.
std::string self_path();

// The running executable's own path from the OS (absolute, UTF-8). Throws on failure.
std::string executable_path();

// Adjacent args files to look for next to `self`, in priority order:
//   <dir>/<name>-args, <dir>/<name>-args.yaml   (name = file name without .exe)
//   <dir>/mmojo-server-args, <dir>/mmojo-server-args.yaml   (when renamed)
std::vector<std::string> adjacent_args_candidates(const std::string& self);

// Directory part of a path ("." when there is none).
std::string parent_directory(const std::string& path);

// UTF-8 strings <-> filesystem paths (wide on Windows).
inline std::filesystem::path utf8_path(const std::string& s) {
    return std::filesystem::path(std::u8string(s.begin(), s.end()));
}
inline std::string path_utf8(const std::filesystem::path& p) {
    const std::u8string s = p.u8string();
    return std::string(s.begin(), s.end());
}

}  // namespace mmojo
