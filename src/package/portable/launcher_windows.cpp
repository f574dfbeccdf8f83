// relaunch_native_windows: see launcher_windows.h. Win32 calls: IsWow64Process2 (looked up
// at run time, Windows 10 1709+), CreateFileW/WriteFile/MoveFileExW for the atomic
// extraction, a job object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE so that the native
// build dies with this process, and a console control handler so that Ctrl+C reaches the
// child (same console) while this process keeps waiting for its exit code.
#include "package/portable/launcher_windows.h"

#if defined(_WIN32) && (defined(__x86_64__) || defined(_M_X64))

#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <cwchar>
#include <exception>
#include <string>
#include <vector>

#include "package/archive/byte_source.h"
#include "package/portable/polyglot.h"
#include "package/portable/self_location.h"
#include "package/archive/sha256.h"

namespace mmojo {

namespace {

constexpr USHORT kArm64 = 0xAA64;

std::wstring widen(const std::string& s) {
    if (s.empty()) return {};
    const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), int(s.size()), nullptr, 0);
    std::wstring w(size_t(n > 0 ? n : 0), L'\0');
    if (n > 0) MultiByteToWideChar(CP_UTF8, 0, s.data(), int(s.size()), w.data(), n);
    return w;
}

std::string win_error(DWORD code) {
    char buf[256] = {};
    FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code, 0, buf, sizeof buf, nullptr);
    std::string s = buf;
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s + " (error " + std::to_string(code) + ")";
}

USHORT native_machine() {
    const wchar_t* forced = _wgetenv(L"MMOJO_NATIVE_MACHINE");
    if (forced && std::wcscmp(forced, L"arm64") == 0) return kArm64;
    using IsWow64Process2Fn = BOOL(WINAPI*)(HANDLE, USHORT*, USHORT*);
    HMODULE kernel = GetModuleHandleW(L"kernel32.dll");
    if (!kernel) return 0;
    void* proc = reinterpret_cast<void*>(GetProcAddress(kernel, "IsWow64Process2"));
    if (!proc) return 0;  // before Windows 10 1709: no ARM64 x64 emulation either
    USHORT process = 0, native = 0;
    if (!reinterpret_cast<IsWow64Process2Fn>(proc)(GetCurrentProcess(), &process, &native)) return 0;
    return native;
}

// Writes the entry to `exe` (via a temporary file and MoveFileExW) unless a file of the
// right size is already there. Checks the SHA-256 prefix on the way.
void extract(const ByteSource& src, const NativeEntry& e, const std::wstring& dir, const std::wstring& exe) {
    WIN32_FILE_ATTRIBUTE_DATA info{};
    if (GetFileAttributesExW(exe.c_str(), GetFileExInfoStandard, &info) &&
        ((uint64_t(info.nFileSizeHigh) << 32) | info.nFileSizeLow) == e.size) {
        return;
    }
    // Create each missing folder level.
    for (size_t i = 3; i <= dir.size(); ++i) {
        if (i == dir.size() || dir[i] == L'\\') {
            const std::wstring part = dir.substr(0, i);
            if (!CreateDirectoryW(part.c_str(), nullptr) && GetLastError() != ERROR_ALREADY_EXISTS) {
                throw std::runtime_error("cannot create a folder for it: " + win_error(GetLastError()));
            }
        }
    }
    const std::wstring tmp = exe + L"." + std::to_wstring(GetCurrentProcessId()) + L".tmp";
    HANDLE h = CreateFileW(tmp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    if (h == INVALID_HANDLE_VALUE) throw std::runtime_error("cannot write it: " + win_error(GetLastError()));
    Sha256 sha;
    std::vector<uint8_t> buf(1 << 20);
    bool ok = true;
    std::string why;
    try {
        for (uint64_t done = 0; done < e.size && ok;) {
            const size_t n = size_t(std::min<uint64_t>(buf.size(), e.size - done));
            src.read(e.offset + done, buf.data(), n);
            sha.update(buf.data(), n);
            DWORD written = 0;
            if (!WriteFile(h, buf.data(), DWORD(n), &written, nullptr) || written != n) {
                ok = false;
                why = "write failed: " + win_error(GetLastError());
            }
            done += n;
        }
    } catch (const std::exception& ex) {
        ok = false;
        why = ex.what();
    }
    CloseHandle(h);
    if (ok && Sha256::hex(sha.finish()).substr(0, 16) != e.hash) {
        ok = false;
        why = "its SHA-256 does not match the manifest (damaged file)";
    }
    if (ok && !MoveFileExW(tmp.c_str(), exe.c_str(), MOVEFILE_REPLACE_EXISTING)) {
        // Another instance may have put it there (and be running it) in the meantime.
        const DWORD err = GetLastError();
        if (!(GetFileAttributesExW(exe.c_str(), GetFileExInfoStandard, &info) &&
              ((uint64_t(info.nFileSizeHigh) << 32) | info.nFileSizeLow) == e.size)) {
            ok = false;
            why = "cannot rename it into place: " + win_error(err);
        }
    }
    DeleteFileW(tmp.c_str());
    if (!ok) throw std::runtime_error(why);
}

BOOL WINAPI keep_waiting(DWORD type) {
    // Ctrl+C / Ctrl+Break also reach the child, which shuts down; we wait for its code.
    return type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT ? TRUE : FALSE;
}

int run_child(const std::wstring& exe, const std::wstring& self) {
    SetEnvironmentVariableW(L"MMOJO_SELF", self.c_str());
    STARTUPINFOW si{};
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    for (HANDLE std_handle : {si.hStdInput, si.hStdOutput, si.hStdError}) {
        if (std_handle && std_handle != INVALID_HANDLE_VALUE) {
            SetHandleInformation(std_handle, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
        }
    }
    std::wstring command_line = GetCommandLineW();  // CreateProcessW may modify its copy
    PROCESS_INFORMATION pi{};
    if (!CreateProcessW(exe.c_str(), command_line.data(), nullptr, nullptr, TRUE, CREATE_SUSPENDED, nullptr,
                        nullptr, &si, &pi)) {
        const DWORD err = GetLastError();
        throw std::runtime_error("cannot start it: " + win_error(err));
    }
    HANDLE job = CreateJobObjectW(nullptr, nullptr);
    if (job) {
        JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits{};
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
        AssignProcessToJobObject(job, pi.hProcess);  // may fail inside a locked-down job; harmless
    }
    SetConsoleCtrlHandler(keep_waiting, TRUE);
    ResumeThread(pi.hThread);
    CloseHandle(pi.hThread);
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(pi.hProcess, &code);
    CloseHandle(pi.hProcess);
    if (job) CloseHandle(job);
    return int(code);
}

}  // namespace

int relaunch_native_windows() {
    const wchar_t* no = _wgetenv(L"MMOJO_NO_RELAUNCH");
    if (no && std::wcscmp(no, L"1") == 0) return -1;
    if (native_machine() != kArm64) return -1;
    try {
        const std::string self = executable_path();
        std::shared_ptr<ByteSource> src = open_file_source(self);
        const NativeEntry* arm = nullptr;
        const std::vector<NativeEntry> natives = read_native_manifest(*src);
        for (const NativeEntry& e : natives) {
            if (e.target == "aarch64-windows") arm = &e;
        }
        if (!arm) return -1;  // a plain x86_64 build, or a file packed without the ARM64 build
        const wchar_t* base = _wgetenv(L"LOCALAPPDATA");
        std::wstring dir;
        if (base && *base) {
            dir = base;
        } else {
            wchar_t tmp[MAX_PATH + 1] = {};
            const DWORD n = GetTempPathW(MAX_PATH + 1, tmp);
            if (n == 0) throw std::runtime_error("neither LOCALAPPDATA nor a temporary folder is available");
            dir.assign(tmp, n);
        }
        while (!dir.empty() && (dir.back() == L'\\' || dir.back() == L'/')) dir.pop_back();
        dir += L"\\mmojo-server\\" + widen(arm->hash);
        const std::wstring exe = dir + L"\\mmojo-server.exe";
        extract(*src, *arm, dir, exe);
        return run_child(exe, widen(self));
    } catch (const std::exception& e) {
        std::fprintf(stderr,
                     "mmojo-server: this is ARM64 Windows, but the native ARM64 build could not be run (%s); "
                     "continuing with the x86_64 build under emulation (slower)\n",
                     e.what());
        return -1;
    }
}

}  // namespace mmojo

#else

namespace mmojo {

int relaunch_native_windows() { return -1; }

}  // namespace mmojo

#endif
