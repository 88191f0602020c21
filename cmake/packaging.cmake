# `cpack -G DEB` in the build directory makes forksan_<version>_<arch>.deb: the command, the shim,
# the docs and the man page under /usr; the case programs under /usr/libexec/forksan/cases and
# their sources under /usr/share/forksan/cases, off everyone's PATH.  Library dependencies come
# from dpkg-shlibdeps.  tests/package.sh builds it and runs it from a scratch root.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME forksan)
set(CPACK_PACKAGE_VENDOR "forksan")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "fork-safety sanitizer: finds fork hazards in unmodified programs")
set(CPACK_PACKAGE_CONTACT "forksan maintainers <forksan@invalid>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The case programs link nothing but libc and the shim-independent test helpers; the shim itself
# is found next to the command, not through the library path.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/lib/forksan
    ${CMAKE_BINARY_DIR}/libexec/forksan/cases)
include(CPack)
