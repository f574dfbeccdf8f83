// Windows on ARM: the polyglot file is an x86_64 PE, which ARM64 Windows runs emulated. So
// the x86_64 build first asks IsWow64Process2 for the machine's native architecture; on
// ARM64 it extracts the aarch64-windows build stored in the same file (manifest: see
// polyglot.h) to %LOCALAPPDATA%\mmojo-server\<hash>\mmojo-server.exe (temporary name, then
// MoveFileExW), runs it with the same command line and MMOJO_SELF set to the outer file,
// waits, and returns its exit code. Everything else (other OSes, native x86_64 Windows, no
// ARM64 build in the file, MMOJO_NO_RELAUNCH=1) returns -1 and main() continues.
#pragma once

namespace mmojo {

// Call first thing in main(): `if (int rc = mmojo::relaunch_native_windows(); rc >= 0) return rc;`
// Returns -1 when this process should run itself, else the exit code of the native build.
// When the native build cannot be extracted or started, prints why and returns -1 (the
// emulated x86_64 build still works, only slower).
// For tests, MMOJO_NATIVE_MACHINE=arm64 pretends the machine is ARM64.
int relaunch_native_windows();

}  // namespace mmojo
