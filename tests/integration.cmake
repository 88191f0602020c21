# Integration tests: the reproduction suite, CLI transcripts and golden reports, each driving the
# built forksan command.
add_test(NAME cases COMMAND forksan cases)
set_tests_properties(cases PROPERTIES TIMEOUT 600)
if(EXISTS ${CMAKE_SOURCE_DIR}/tests/cli/run.sh)
  add_test(NAME cli COMMAND bash ${CMAKE_SOURCE_DIR}/tests/cli/run.sh $<TARGET_FILE:forksan>
                            ${FORKSAN_CASES_BIN_DIR})
  set_tests_properties(cli PROPERTIES TIMEOUT 300)
endif()
if(EXISTS ${CMAKE_SOURCE_DIR}/tests/golden/run.sh)
  add_test(NAME golden COMMAND bash ${CMAKE_SOURCE_DIR}/tests/golden/run.sh $<TARGET_FILE:forksan>)
  set_tests_properties(golden PROPERTIES TIMEOUT 120)
endif()
add_test(NAME install COMMAND bash ${CMAKE_SOURCE_DIR}/tests/install_smoke.sh ${CMAKE_BINARY_DIR})
set_tests_properties(install PROPERTIES TIMEOUT 120)
# A fork storm stopped by --max-processes: reported, and no process of it is left behind.
add_test(NAME storm COMMAND bash ${CMAKE_SOURCE_DIR}/tests/storm/no_leftovers.sh
                            $<TARGET_FILE:forksan> ${FORKSAN_CASES_BIN_DIR})
set_tests_properties(storm PROPERTIES TIMEOUT 120)
# The storm limit counts running children only: not zombies, not children the kernel reaped.
add_executable(fs_storm_accounting ${CMAKE_SOURCE_DIR}/tests/storm/accounting.c)
set_target_properties(fs_storm_accounting PROPERTIES OUTPUT_NAME storm_accounting
                                                     RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME storm/accounting COMMAND bash ${CMAKE_SOURCE_DIR}/tests/storm/accounting.sh
                                       $<TARGET_FILE:forksan> $<TARGET_FILE:fs_storm_accounting>)
set_tests_properties(storm/accounting PROPERTIES TIMEOUT 120 FAIL_REGULAR_EXPRESSION "not ok - ")
# The libFuzzer target, for a short bounded time on every submission; in the normal pass only
# (it brings its own ASan+UBSan build), skipped when clang's libFuzzer is missing.
if(NOT FORKSAN_SANITIZE AND EXISTS ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh)
  set(FORKSAN_FUZZ_SECONDS 60 CACHE STRING "seconds the fuzz CTest runs the fuzz target")
  add_test(NAME fuzz COMMAND bash ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh ${CMAKE_BINARY_DIR}/fuzz
                             ${FORKSAN_FUZZ_SECONDS})
  set_tests_properties(fuzz PROPERTIES TIMEOUT 600 LABELS fuzz SKIP_RETURN_CODE 77)
endif()

# Every SARIF log validated by the SARIF multitool (schema + GitHub rules); skipped (77) when
# scripts/install-sarif-tools.sh could not install it.
add_test(NAME sarif COMMAND bash ${CMAKE_SOURCE_DIR}/tests/sarif/validate.sh $<TARGET_FILE:forksan>
         ${FORKSAN_CASES_BIN_DIR} ${CMAKE_SOURCE_DIR}/tests/golden ${CMAKE_BINARY_DIR}/test-artifacts)
set_tests_properties(sarif PROPERTIES TIMEOUT 900 SKIP_RETURN_CODE 77)

# The HTML report in headless Chromium; skipped (77) without a browser
# (scripts/install-browser.sh).  Screenshots go to test-artifacts/.
add_test(NAME html COMMAND bash ${CMAKE_SOURCE_DIR}/tests/html/browser.sh $<TARGET_FILE:forksan>
         ${FORKSAN_CASES_BIN_DIR} ${CMAKE_BINARY_DIR}/test-artifacts)
set_tests_properties(html PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77)

# The Debian package (cpack -G DEB), unpacked into a scratch root and run.
add_test(NAME package COMMAND bash ${CMAKE_SOURCE_DIR}/tests/package.sh ${CMAKE_BINARY_DIR})
set_tests_properties(package PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
