# Linux on x86-64, aarch64 (Raspberry Pi 3/4/5) and armhf (routers, Pi 2): the posix port.
# The architecture comes from the toolchain file; the budget and options are the same.
set(PINHOLE_PLATFORM posix)
if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  message(FATAL_ERROR "Board 'linux' needs a Linux toolchain; this one targets '${CMAKE_SYSTEM_NAME}'. "
                      "Use a preset: host, host-release, aarch64-linux, armhf-linux or fuzz.")
endif()
# ChaCha20-Poly1305 from OpenSSL's libcrypto (core/crypto/README.md): vectorised (AVX2/AVX-512,
# NEON) where mbedTLS is portable C. -DPINHOLE_CRYPTO_CHACHA20POLY1305=mbedtls falls back.
set(PINHOLE_CRYPTO_CHACHA20POLY1305 "openssl" CACHE STRING "")
