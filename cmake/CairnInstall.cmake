# SPDX-License-Identifier: MIT
# CairnInstall.cmake — included at the end of the top-level CMakeLists.txt:
# what `make install` puts beside the libraries and programs.
#   lib/cmake/cairn/   cairnConfig.cmake, its version file and the exported
#                      targets (cairn::cairn, cairn::cairn_static,
#                      cairn::fortran): find_package(cairn)
#   share/man/         cairn(1), cairn-SUBCOMMAND(1), libcairn(3) and a page
#                      per function, cairn-fortran(3) (man/CMakeLists.txt)
#   share/bash-completion/completions/cairn   (packaging/bash-completion/)
include(CMakePackageConfigHelpers)

set(CAIRN_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/cairn" CACHE STRING
    "Where cairnConfig.cmake is installed (relative to the prefix)")
set(CAIRN_LIBEXEC_DIR "${CMAKE_INSTALL_LIBEXECDIR}/cairn")

install(EXPORT cairnTargets NAMESPACE cairn:: DESTINATION ${CAIRN_CMAKE_DIR})
configure_package_config_file(cmake/cairnConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cmake/cairnConfig.cmake
  INSTALL_DESTINATION ${CAIRN_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CAIRN_LIBEXEC_DIR)
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cmake/cairnConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cmake/cairnConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/cmake/cairnConfigVersion.cmake
        DESTINATION ${CAIRN_CMAKE_DIR})

add_subdirectory(${PROJECT_SOURCE_DIR}/man ${PROJECT_BINARY_DIR}/man)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/bash-completion/cairn
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
