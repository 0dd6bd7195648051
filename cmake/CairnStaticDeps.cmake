# SPDX-License-Identifier: MIT
# CairnStaticDeps.cmake — included by the top-level CMakeLists.txt right
# after pkg_check_modules() found libzstd, libxxhash and libsodium.
#
# CAIRN_STATIC_DEPS=ON (what `make dist` builds the relocatable bundle with,
# packaging/dist.sh): the three are linked from their static archives
# (Debian's libzstd-dev, libxxhash-dev and libsodium-dev ship them, built as
# position-independent code) into everything that uses them: cairn,
# libcairn.so, libcairn.a's users, libcairn-runtime.so. The targets
# PkgConfig::ZSTD, ::XXHASH and ::SODIUM keep their names and point at the
# archives instead, so no other CMakeLists.txt changes. Shared objects then
# keep the archives' symbols to themselves (--exclude-libs): a job that loads
# its own libzstd does not get cairn's, nor cairn the job's.
#
# CAIRN_STATIC_CLI=ON (the default; OFF with the sanitizers, and for the
# Debian packages, debian/rules): the cairn command is a static-pie
# executable, so that it runs on any glibc, 2.28 (EL8) included
# (docs/TRANSPARENT.md, "glibc versions"): an executable linked on Debian 12
# needs its __libc_start_main@GLIBC_2.34. A target with the property
# CAIRN_STATIC set gets the archives from those three targets, the others
# the shared libraries.
option(CAIRN_STATIC_DEPS "Link libzstd, libxxhash and libsodium statically (the relocatable bundle)" OFF)
option(CAIRN_STATIC_CLI "Link the cairn command as a static-pie executable (runs on any glibc)" ON)
if(CAIRN_STATIC_CLI AND (CAIRN_SANITIZE OR CAIRN_TSAN))
  message(STATUS "CAIRN_STATIC_CLI: off with the sanitizers (their runtimes are shared libraries)")
  set(CAIRN_STATIC_CLI OFF)
endif()
if(NOT CAIRN_STATIC_DEPS AND NOT CAIRN_STATIC_CLI)
  return()
endif()
foreach(_dep ZSTD=zstd XXHASH=xxhash SODIUM=sodium)
  string(REPLACE "=" ";" _dep "${_dep}")
  list(GET _dep 0 _prefix)
  list(GET _dep 1 _name)
  find_library(CAIRN_${_prefix}_ARCHIVE NAMES lib${_name}.a
               HINTS ${${_prefix}_STATIC_LIBRARY_DIRS} ${${_prefix}_LIBRARY_DIRS})
  if(NOT CAIRN_${_prefix}_ARCHIVE)
    message(FATAL_ERROR "CAIRN_STATIC_DEPS or CAIRN_STATIC_CLI: no lib${_name}.a "
                        "(Debian: lib${_name}-dev ships it; -DCAIRN_STATIC_CLI=OFF links cairn with the shared one)")
  endif()
  set(_archive ${CAIRN_${_prefix}_ARCHIVE})
  if(NOT CAIRN_STATIC_DEPS)
    get_property(_shared TARGET PkgConfig::${_prefix} PROPERTY INTERFACE_LINK_LIBRARIES)
    set(_static $<BOOL:$<TARGET_PROPERTY:CAIRN_STATIC>>)
    set(_archive "$<${_static}:${_archive}>")
    foreach(_lib ${_shared})
      list(APPEND _archive "$<$<NOT:${_static}>:${_lib}>")
    endforeach()
  endif()
  set_property(TARGET PkgConfig::${_prefix} PROPERTY INTERFACE_LINK_LIBRARIES "${_archive}")
  message(STATUS "CAIRN_STATIC_DEPS/CLI: ${_name} from ${CAIRN_${_prefix}_ARCHIVE}")
endforeach()
if(CAIRN_STATIC_DEPS)
  string(APPEND CMAKE_SHARED_LINKER_FLAGS " -Wl,--exclude-libs,ALL")
  string(APPEND CMAKE_MODULE_LINKER_FLAGS " -Wl,--exclude-libs,ALL")
endif()
