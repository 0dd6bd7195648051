# CairnInstall.cmake — included at the end of the top-level CMakeLists.txt:
# what `make install` puts beside the libraries and programs.
#   lib/cmake/cairn/   cairnConfig.cmake, its version file and the exported
#                      targets (cairn::cairn, cairn::cairn_static,
#                      cairn::fortran): find_package(cairn)
#   share/man/         cairn(1), cairn-SUBCOMMAND(1), libcairn(3),
#                      cairn-fortran(3) (man/)
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

file(GLOB _cairn_man1 CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.1)
file(GLOB _cairn_man3 CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.3)
install(FILES ${_cairn_man1} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${_cairn_man3} DESTINATION ${CMAKE_INSTALL_MANDIR}/man3)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/bash-completion/cairn
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
