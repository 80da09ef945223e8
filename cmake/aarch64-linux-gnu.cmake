# Cross toolchain for aarch64 Linux (Debian's g++-aarch64-linux-gnu), used by the `aarch64` preset.
# Binaries run on this x86 host under qemu-user with the cross sysroot as their library root;
# CMAKE_CROSSCOMPILING_EMULATOR lets ctest (and CMake's own run steps) do the same.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(SLM_AARCH64_SYSROOT /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH ${SLM_AARCH64_SYSROOT})
# Programs (ninja, pkg-config, qemu) come from the host; libraries, headers and packages only from
# the sysroot, so nothing built for x86 is ever linked by mistake.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L ${SLM_AARCH64_SYSROOT})
