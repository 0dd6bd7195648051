# SPDX-License-Identifier: MIT
# CairnFortran.cmake — included by the top-level CMakeLists.txt: decides
# whether the Fortran module (fortran/), its example (examples/fortran/) and
# tests (tests/fortran/) are built, and enables the language at the top
# level, as CMake wants for a language several directories use.
#
#   CAIRN_FORTRAN=AUTO  (default) built when a Fortran compiler is found, so
#                       that building cairn needs no Fortran compiler
#   CAIRN_FORTRAN=ON    required (the check targets of the Makefile)
#   CAIRN_FORTRAN=OFF   never
#
# The module relies on Fortran 2018 assumed-type, assumed-rank arguments
# (type(*), dimension(..)) and on the compiler's ISO_Fortran_binding.h; it is
# tested with gfortran 12.
set(CAIRN_FORTRAN AUTO CACHE STRING "Build the Fortran module: AUTO (if a compiler is found), ON or OFF")
set_property(CACHE CAIRN_FORTRAN PROPERTY STRINGS AUTO ON OFF)
# Where cairn.mod goes, relative to the prefix (or absolute). .mod files are
# specific to the compiler (and its version) that wrote them; cairn-fortran.pc
# and the CMake package give the right -I for wherever it is.
set(CAIRN_FORTRAN_MODDIR "${CMAKE_INSTALL_INCLUDEDIR}/cairn/fortran" CACHE STRING
    "Where cairn.mod is installed (relative to the prefix, or absolute)")

if(CAIRN_FORTRAN STREQUAL "AUTO")
  include(CheckLanguage)
  check_language(Fortran)
  if(CMAKE_Fortran_COMPILER)
    set(CAIRN_FORTRAN ON)
  else()
    set(CAIRN_FORTRAN OFF)
    message(STATUS "No Fortran compiler: the Fortran module is not built "
                   "(apt-get install gfortran; -DCAIRN_FORTRAN=ON requires it)")
  endif()
endif()
if(CAIRN_FORTRAN)
  enable_language(Fortran)
  if(NOT CMAKE_Fortran_COMPILER_ID STREQUAL "GNU")
    message(WARNING "cairn's Fortran module is tested with gfortran only, "
                    "not ${CMAKE_Fortran_COMPILER_ID}")
  endif()
endif()

# cairn_fortran_options(TARGET): the warnings Fortran sources get, and the
# sanitizers of the C build. The directory-wide add_compile_options() of the
# top level are C options (-Wstrict-prototypes and the like); they are kept
# away from Fortran sources by cairn_fortran_c_only_options().
function(cairn_fortran_options target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:Fortran>:-std=f2018 -Wall -Wextra -Wimplicit-interface -fimplicit-none>)
  if(CAIRN_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:Fortran>:-Werror>)
  endif()
  if(CAIRN_SANITIZE)
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:Fortran>:-fsanitize=address,undefined -fno-omit-frame-pointer>)
  endif()
endfunction()

# Call in a directory whose targets compile Fortran: limits the options the
# directory inherited from the top level to C sources.
macro(cairn_fortran_c_only_options)
  get_property(_cairn_opts DIRECTORY PROPERTY COMPILE_OPTIONS)
  set(_cairn_c_opts)
  foreach(_o IN LISTS _cairn_opts)
    list(APPEND _cairn_c_opts "$<$<COMPILE_LANGUAGE:C>:${_o}>")
  endforeach()
  set_property(DIRECTORY PROPERTY COMPILE_OPTIONS "${_cairn_c_opts}")
endmacro()
