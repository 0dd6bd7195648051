# SPDX-License-Identifier: MIT
# Static analysis and valgrind memcheck tests (issue 5, item 5). Included
# from tests/fuzz/CMakeLists.txt, since tests/CMakeLists.txt adds a fixed
# list of suites.
#   lint      cppcheck over lib/ cli/ runtime/ restore/ include/ and the
#             fuzz and chaos sources (tests/analysis/run-cppcheck)
#   valgrind  memcheck over every libcairn unit test (tests/unit) and the
#             fuzz replay runners; not in the sanitizer build. Memory errors
#             (invalid access, use of uninitialised values, which ASan does
#             not see) fail a test. Leaks fail the replay runners; in the
#             unit tests they are only summarised, because the tests fork
#             children that _exit() holding memory, and valgrind checks
#             every forked child for leaks too; LeakSanitizer in the ASan
#             build covers the unit tests' leaks.
find_program(CAIRN_CPPCHECK cppcheck)
if(CAIRN_CPPCHECK)
  add_test(NAME lint-cppcheck COMMAND ${PROJECT_SOURCE_DIR}/tests/analysis/run-cppcheck)
  set_tests_properties(lint-cppcheck PROPERTIES LABELS "lint;no-asan" TIMEOUT 600)
else()
  message(STATUS "cppcheck not found: the lint test is not registered")
endif()

# The glibc versions the shipped binaries need: at most 2.28 (EL8), each.
if(TARGET cairn_runtime AND TARGET cairn-restore)
  set(_shipped $<TARGET_FILE:cairn_runtime> $<TARGET_FILE:cairn_cli> $<TARGET_FILE:cairn>
               $<TARGET_FILE:cairn-restore>)
  if(TARGET cairn_python)
    list(APPEND _shipped $<TARGET_FILE:cairn_python>)
  endif()
  add_test(NAME lint-glibc-versions COMMAND ${PROJECT_SOURCE_DIR}/tests/analysis/glibc-versions
           ${_shipped})
  set_tests_properties(lint-glibc-versions PROPERTIES LABELS "lint;no-asan" SKIP_RETURN_CODE 77)
endif()

find_program(CAIRN_VALGRIND valgrind)
if(CAIRN_VALGRIND AND NOT CAIRN_SANITIZE AND NOT CAIRN_TSAN)
  set(_vg ${CAIRN_VALGRIND} --tool=memcheck --error-exitcode=99 --quiet
          --child-silent-after-fork=yes)
  set(_leaks --leak-check=full --errors-for-leak-kinds=definite)
  set(_unit_targets)
  if(EXISTS ${PROJECT_SOURCE_DIR}/tests/unit/CMakeLists.txt)
    get_property(_unit_targets DIRECTORY ${PROJECT_SOURCE_DIR}/tests/unit
                 PROPERTY BUILDSYSTEM_TARGETS)
  endif()
  foreach(t ${_unit_targets})
    get_target_property(_type ${t} TYPE)
    if(t MATCHES "^unit_" AND _type STREQUAL "EXECUTABLE")
      string(REGEX REPLACE "^unit_" "" _name ${t})
      add_test(NAME valgrind.unit.${_name} COMMAND ${_vg} --leak-check=summary $<TARGET_FILE:${t}>)
      set_tests_properties(valgrind.unit.${_name} PROPERTIES
        LABELS "valgrind;no-asan" TIMEOUT 900)
    endif()
  endforeach()
  foreach(t image store)
    add_test(NAME valgrind.fuzz-replay-${t}
             COMMAND ${_vg} ${_leaks} $<TARGET_FILE:cairn-fuzz-${t}-replay> ${FUZZ_DIR}/corpus
                     ${FUZZ_DIR}/regressions)
    set_tests_properties(valgrind.fuzz-replay-${t} PROPERTIES
      LABELS "valgrind;no-asan" TIMEOUT 900)
  endforeach()
endif()
