// Self-location: see self_location.h. OS calls are isolated behind #ifdef so the file
// builds for Linux, macOS and Windows (mingw).
#include "package/portable/self_location.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#if defined(_WIN32)
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#elif defined(__APPLE__)
#include <mach-o/dyld.h>
#include <climits>
#include <cstdint>
#else
#include <unistd.h>
#include <climits>
#endif

namespace mmojo {

namespace {

#ifdef _WIN32
std::string narrow(const std::wstring& w) {
    if (w.empty()) return {};
    const int n = WideCharToMultiByte(CP_UTF8, 0, w.c_str(), int(w.size()), nullptr, 0, nullptr, nullptr);
    std::string out(size_t(n > 0 ? n : 0), '\0');
    if (n > 0) WideCharToMultiByte(CP_UTF8, 0, w.c_str(), int(w.size()), out.data(), n, nullptr, nullptr);
    return out;
}
#endif

std::string env_self() {
#ifdef _WIN32
    const wchar_t* v = _wgetenv(L"MMOJO_SELF");
    return v ? narrow(v) : std::string();
#else
    const char* v = std::getenv(kSelfEnvVar);
    return v ? std::string(v) : std::string();
#endif
}

bool has_suffix_ci(const std::string& s, const std::string& suffix) {
    if (s.size() < suffix.size()) return false;
    for (size_t i = 0; i < suffix.size(); ++i) {
        char a = s[s.size() - suffix.size() + i];
        if (a >= 'A' && a <= 'Z') a = char(a - 'A' + 'a');
        if (a != suffix[i]) return false;
    }
    return true;
}

}  // namespace

std::string executable_path() {
#if defined(_WIN32)
    std::wstring buf(260, L'\0');
    for (;;) {
        const DWORD n = GetModuleFileNameW(nullptr, buf.data(), DWORD(buf.size()));
        if (n == 0) throw std::runtime_error("GetModuleFileNameW failed");
        if (n < buf.size()) {
            buf.resize(n);
            return narrow(buf);
        }
        buf.resize(buf.size() * 2);
    }
#elif defined(__APPLE__)
    uint32_t size = 0;
    _NSGetExecutablePath(nullptr, &size);
    std::string buf(size + 1, '\0');
    if (_NSGetExecutablePath(buf.data(), &size) != 0) {
        throw std::runtime_error("_NSGetExecutablePath failed");
    }
    buf.resize(std::char_traits<char>::length(buf.c_str()));
    char resolved[PATH_MAX];
    if (realpath(buf.c_str(), resolved)) return resolved;
    return buf;
#else
    std::string buf(256, '\0');
    for (;;) {
        const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size());
        if (n < 0) throw std::runtime_error("cannot read /proc/self/exe to locate the executable");
        if (size_t(n) < buf.size()) {
            buf.resize(size_t(n));
            return buf;
        }
        buf.resize(buf.size() * 2);
    }
#endif
}

std::string self_path() {
    std::string env = env_self();
    if (!env.empty()) return env;
    return executable_path();
}

std::string parent_directory(const std::string& path) {
    const std::filesystem::path p = utf8_path(path).parent_path();
    return p.empty() ? std::string(".") : path_utf8(p);
}

std::vector<std::string> adjacent_args_candidates(const std::string& self) {
    const std::filesystem::path p = utf8_path(self);
    std::string name = path_utf8(p.filename());
    if (has_suffix_ci(name, ".exe")) name.resize(name.size() - 4);
    const std::filesystem::path dir = p.parent_path();
    std::vector<std::string> out;
    auto add = [&](const std::string& base) {
        for (const char* suffix : {"-args", "-args.yaml"}) {
            const std::string c = path_utf8(dir / utf8_path(base + suffix));
            if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
        }
    };
    add(name);
    add("mmojo-server");
    return out;
}

}  // namespace mmojo
