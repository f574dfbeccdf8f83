// The POSIX sh launcher of the polyglot file (see polyglot.h). It follows the DOS header,
// whose `MZqFpD='` opened a single-quoted string: the script starts by closing it. Then:
//   * pick the native build from `uname -s` / `uname -m` (an x86_64 shell on an Apple
//     Silicon Mac, i.e. Rosetta, still gets the arm64 build);
//   * find the outer file's absolute path ($0, or a PATH search when $0 has no slash);
//   * extract the build once to ${XDG_CACHE_HOME:-$HOME/.cache}/mmojo-server/<hash>/, else
//     ${TMPDIR:-/tmp}/mmojo-server-<uid>/<hash>/: written to a temporary name, size
//     checked, run once with --version (catches noexec mounts), then renamed into place and
//     marked with an `ok` file so later starts skip all of that;
//   * exec it with MMOJO_SELF=<outer file> and the arguments unchanged, behind
//     $MMOJO_LAUNCH_WRAPPER when that is set (e.g. "strace -f", "gdb --args", or
//     "qemu-aarch64-static" where the kernel cannot run ARM64 programs by itself).
// Builds are 4 KiB aligned in the file: dd copies whole 4 KiB blocks, then the tail bytes.
// Only POSIX sh, uname, dd, wc, mkdir, chmod, mv, rm, id are used (dash, bash, busybox ash,
// macOS sh). The script ends with `exit`, so the shell never reads the binary after it.
#include <string>

#include "package/portable/polyglot.h"

namespace mmojo {

namespace {

std::string case_line(const NativeEntry& n, const std::string& patterns) {
    const uint64_t block = 4096;
    const uint64_t full = n.size / block;
    return patterns + ") t=" + n.target + " h=" + n.hash + " B=" + std::to_string(n.offset / block) +
           " C=" + std::to_string(full) + " R=" + std::to_string(n.offset + full * block) +
           " Q=" + std::to_string(n.size % block) + " N=" + std::to_string(n.size) + ";;\n";
}

}  // namespace

std::string launcher_script(const std::vector<NativeEntry>& natives) {
    std::string have;
    std::string cases;
    for (const NativeEntry& n : natives) {
        have += (have.empty() ? "" : ", ") + n.target;
        if (n.target == "x86_64-linux") cases += case_line(n, "Linux-x86_64|Linux-amd64");
        if (n.target == "aarch64-linux") cases += case_line(n, "Linux-aarch64|Linux-arm64|Linux-armv8*");
        if (n.target == "aarch64-macos") cases += case_line(n, "Darwin-arm64|Darwin-aarch64");
        if (n.target == "x86_64-macos") cases += case_line(n, "Darwin-x86_64");
    }
    std::string s;
    s += "'\n";
    s += "# mmojo-server: one file for Linux, macOS and Windows (docs/package.md).\n";
    s += "# Here sh extracts the native build for this machine once and runs it.\n";
    s += "k=$(uname -s) m=$(uname -m)\n";
    s += "[ \"$k-$m\" = Darwin-x86_64 ] && [ \"$(sysctl -n sysctl.proc_translated 2>/dev/null)\" = 1 ] && m=arm64\n";
    s += "case $k-$m in\n" + cases;
    s += "*) echo \"mmojo-server: no build for $k $m in this file (it has " + have + ";\" \\\n"
         "\"on Windows run it as a .exe)\" >&2; exit 1;;\nesac\n";
    s += "s=$0\n";
    s += "case $s in /*) ;; */*) s=$(pwd)/${s#./} ;; *) if [ -r \"$s\" ]; then s=$(pwd)/$s; "
         "else s=$(command -v -- \"$s\"); fi ;; esac\n";
    // x DIR: make DIR/mmojo-server runnable; fails when DIR is unusable.
    s += "x() {\n";
    s += "  [ -f \"$1/ok\" ] && [ -x \"$1/mmojo-server\" ] && return 0\n";
    s += "  mkdir -p \"$1\" 2>/dev/null || return 1\n";
    s += "  p=$1/.tmp.$$\n";
    s += "  { [ $C = 0 ] || dd if=\"$s\" bs=4096 skip=$B count=$C; } >\"$p\" 2>/dev/null &&\n";
    s += "  { [ $Q = 0 ] || dd if=\"$s\" bs=1 skip=$R count=$Q; } >>\"$p\" 2>/dev/null &&\n";
    s += "  [ $(($(wc -c <\"$p\"))) = $N ] && chmod 755 \"$p\" && MMOJO_SELF=$s $MMOJO_LAUNCH_WRAPPER \"$p\" --version >/dev/null 2>&1 &&\n";
    s += "  mv -f \"$p\" \"$1/mmojo-server\" && : >\"$1/ok\" && return 0\n";
    s += "  rm -f \"$p\"; return 1\n";
    s += "}\n";
    s += "c=${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/mmojo-server\n";
    s += "u=${TMPDIR:-/tmp}; u=${u%/}/mmojo-server-$(id -u)\n";
    s += "if x \"$c/$h\"; then d=$c/$h\n";
    s += "elif mkdir -m 700 \"$u\" 2>/dev/null; [ -O \"$u\" ] && x \"$u/$h\"; then d=$u/$h\n";
    s += "else echo \"mmojo-server: cannot extract and run the $t build in $c or $u (not writable, full,\" \\\n"
         "\"or mounted noexec); point XDG_CACHE_HOME or TMPDIR to a folder where programs may run\" >&2; exit 1\n";
    s += "fi\n";
    s += "MMOJO_SELF=$s\nexport MMOJO_SELF\n";
    s += "exec $MMOJO_LAUNCH_WRAPPER \"$d/mmojo-server\" \"$@\"\n";
    s += "exit 1\n";
    return s;
}

}  // namespace mmojo
