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
option(CAIRN_STATIC_DEPS "Link libzstd, libxxhash and libsodium statically (the relocatable bundle)" OFF)
if(NOT CAIRN_STATIC_DEPS)
  return()
endif()
foreach(_dep ZSTD=zstd XXHASH=xxhash SODIUM=sodium)
  string(REPLACE "=" ";" _dep "${_dep}")
  list(GET _dep 0 _prefix)
  list(GET _dep 1 _name)
  find_library(CAIRN_${_prefix}_ARCHIVE NAMES lib${_name}.a
               HINTS ${${_prefix}_STATIC_LIBRARY_DIRS} ${${_prefix}_LIBRARY_DIRS})
  if(NOT CAIRN_${_prefix}_ARCHIVE)
    message(FATAL_ERROR "CAIRN_STATIC_DEPS: no lib${_name}.a (Debian: lib${_name}-dev ships it)")
  endif()
  set_property(TARGET PkgConfig::${_prefix} PROPERTY INTERFACE_LINK_LIBRARIES ${CAIRN_${_prefix}_ARCHIVE})
  message(STATUS "CAIRN_STATIC_DEPS: ${_name} from ${CAIRN_${_prefix}_ARCHIVE}")
endforeach()
string(APPEND CMAKE_SHARED_LINKER_FLAGS " -Wl,--exclude-libs,ALL")
string(APPEND CMAKE_MODULE_LINKER_FLAGS " -Wl,--exclude-libs,ALL")
