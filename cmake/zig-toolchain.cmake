# CMake toolchain for cross builds with zig's clang (PyPI's `ziglang` wheel, installed once per
# machine by `scripts/setup.sh --test` and linked as build/deps/zig).
# Select the target with -DMMOJO_ZIG_TARGET=<arch>-<os>[-abi], one of
#   x86_64-linux-musl  aarch64-linux-musl  x86_64-windows-gnu  aarch64-windows-gnu
#   aarch64-macos      x86_64-macos
# CMake needs one executable per tool, so this file writes small wrapper scripts
# (`zig c++ -target T "$@"`, `zig ar`, `zig ranlib`) into the build folder. They name zig by
# its real path, the same in every clone, so ccache keys on their text can be shared.
# Linux builds are static musl executables; everything is -O2 without debug info and
# stripped at link time (see scripts/cross-build.sh and docs/build.md).

if(NOT MMOJO_ZIG_TARGET)
    message(FATAL_ERROR "zig-toolchain.cmake: set -DMMOJO_ZIG_TARGET=<arch>-<os>[-abi]")
endif()
# try_compile projects re-read this file: pass the target and zig on to them.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES MMOJO_ZIG_TARGET MMOJO_ZIG)

if(NOT MMOJO_ZIG)
    get_filename_component(_mmojo_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
    set(MMOJO_ZIG "${_mmojo_root}/build/deps/zig")
endif()
get_filename_component(MMOJO_ZIG "${MMOJO_ZIG}" REALPATH)
if(NOT EXISTS "${MMOJO_ZIG}")
    message(FATAL_ERROR "zig-toolchain.cmake: ${MMOJO_ZIG} not found; run scripts/setup.sh --test "
                        "(it installs the pinned ziglang package) or pass -DMMOJO_ZIG=")
endif()

string(REGEX MATCH "^([a-z0-9_]+)-([a-z]+)" _mmojo_triple "${MMOJO_ZIG_TARGET}")
set(_mmojo_arch "${CMAKE_MATCH_1}")
set(_mmojo_os "${CMAKE_MATCH_2}")
if(_mmojo_os STREQUAL "linux")
    set(CMAKE_SYSTEM_NAME Linux)
elseif(_mmojo_os STREQUAL "windows")
    set(CMAKE_SYSTEM_NAME Windows)
elseif(_mmojo_os STREQUAL "macos")
    set(CMAKE_SYSTEM_NAME Darwin)
else()
    message(FATAL_ERROR "zig-toolchain.cmake: unsupported target '${MMOJO_ZIG_TARGET}'")
endif()
set(CMAKE_SYSTEM_PROCESSOR "${_mmojo_arch}")

# Wrapper scripts live next to the cache of the build that uses them.
set(_mmojo_wrap_dir "${CMAKE_BINARY_DIR}/zig-wrappers")
if(CMAKE_BINARY_DIR MATCHES "/CMakeFiles/CMakeTmp|/CMakeScratch/")
    # try_compile: reuse the top-level build's wrappers when they exist.
    string(REGEX REPLACE "/CMakeFiles/.*$" "/zig-wrappers" _mmojo_wrap_dir "${CMAKE_BINARY_DIR}")
endif()
foreach(_tool cc c++ ar ranlib)
    set(_file "${_mmojo_wrap_dir}/zig-${_tool}")
    if(_tool STREQUAL "cc" OR _tool STREQUAL "c++")
        set(_cmd "${_tool} -target ${MMOJO_ZIG_TARGET}")
    else()
        set(_cmd "${_tool}")
    endif()
    set(_text "#!/bin/sh\nexec \"${MMOJO_ZIG}\" ${_cmd} \"$@\"\n")
    if(EXISTS "${_file}")
        file(READ "${_file}" _old)
    else()
        set(_old "")
    endif()
    if(NOT _old STREQUAL _text)
        file(WRITE "${_file}" "${_text}")
        file(CHMOD "${_file}" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
             GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    endif()
endforeach()

set(CMAKE_C_COMPILER "${_mmojo_wrap_dir}/zig-cc")
set(CMAKE_CXX_COMPILER "${_mmojo_wrap_dir}/zig-c++")
set(CMAKE_AR "${_mmojo_wrap_dir}/zig-ar" CACHE FILEPATH "zig ar")
set(CMAKE_RANLIB "${_mmojo_wrap_dir}/zig-ranlib" CACHE FILEPATH "zig ranlib")

# Never look at the host's headers or libraries.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_ROOT_PATH "${_mmojo_wrap_dir}/no-sysroot")

# Size: no debug info, dead code removed, symbols stripped at link time.
set(CMAKE_C_FLAGS_INIT "-ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "-ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_RELEASE_INIT "-O2 -DNDEBUG")
set(CMAKE_CXX_FLAGS_RELEASE_INIT "-O2 -DNDEBUG")
if(_mmojo_os STREQUAL "macos")
    # Room in the Mach-O header for the LC_CODE_SIGNATURE load command added after linking
    # (zig signs arm64 itself but not x86_64).
    set(CMAKE_EXE_LINKER_FLAGS_INIT "-s -Wl,-dead_strip -Wl,-headerpad,0x1000")
elseif(_mmojo_os STREQUAL "windows")
    set(CMAKE_EXE_LINKER_FLAGS_INIT "-s -Wl,--gc-sections")
else()
    set(CMAKE_EXE_LINKER_FLAGS_INIT "-s -static -Wl,--gc-sections")
endif()
