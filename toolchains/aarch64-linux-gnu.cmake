# 64-bit ARM Linux (Raspberry Pi 3/4/5, arm64 routers): Debian's cross g++.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(PINHOLE_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${PINHOLE_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${PINHOLE_TRIPLE}-g++)
# Tests run under qemu-user; it finds the loader from libc6:arm64 (multiarch), so no -L.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
set(CMAKE_FIND_ROOT_PATH /usr/${PINHOLE_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Debian's multiarch packages of the target (libssl-dev:ARCH, from scripts/bootstrap) live in
# /usr/lib/<triple> and /usr/include/<triple>, outside the root path above: FindOpenSSL is given
# the target's libcrypto outright (the cross compiler searches /usr/include/<triple> itself).
set(OPENSSL_CRYPTO_LIBRARY /usr/lib/${PINHOLE_TRIPLE}/libcrypto.so CACHE FILEPATH "")
set(OPENSSL_SSL_LIBRARY /usr/lib/${PINHOLE_TRIPLE}/libssl.so CACHE FILEPATH "")
set(OPENSSL_INCLUDE_DIR /usr/include CACHE PATH "")
