# CPython's own fork-related test modules, natively and under `forksan run`, one CTest per
# interpreter found at configure time: Debian's /usr/bin/python3 and every pyenv CPython 3.8 or
# later ($PYENV_ROOT, else ~/.pyenv).  Labelled `cpython`: `ctest -LE cpython` leaves them out
# (scripts/test.sh does so for the --sanitize pass).  Driver: tests/cpython/run_suites.py.
find_program(FORKSAN_SYSTEM_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
set(fs_cpythons)
if(FORKSAN_SYSTEM_PYTHON3)
  list(APPEND fs_cpythons "debian-python3=${FORKSAN_SYSTEM_PYTHON3}")
endif()
set(fs_pyenv_root "$ENV{PYENV_ROOT}")
if(NOT fs_pyenv_root)
  set(fs_pyenv_root "$ENV{HOME}/.pyenv")
endif()
file(GLOB fs_pyenv_versions LIST_DIRECTORIES true "${fs_pyenv_root}/versions/3.*")
list(SORT fs_pyenv_versions COMPARE NATURAL)
foreach(dir ${fs_pyenv_versions})
  get_filename_component(ver ${dir} NAME)
  # The range the issue names (3.8 to 3.13 and later); 2.x, 3.6 and 3.7 are left out.
  if(ver MATCHES "^3\\.([0-9]+)\\.[0-9]+$" AND CMAKE_MATCH_1 GREATER_EQUAL 8)
    string(REGEX REPLACE "^(3\\.[0-9]+)\\..*" "\\1" minor ${ver})
    if(EXISTS "${dir}/bin/python${minor}")
      list(APPEND fs_cpythons "pyenv-${ver}=${dir}/bin/python${minor}")
    endif()
  endif()
endforeach()

# The driver runs on Debian's python3 (a dependency), not on whatever python3 is first on PATH.
if(FORKSAN_SYSTEM_PYTHON3)
  set(FORKSAN_TEST_PYTHON3 ${FORKSAN_SYSTEM_PYTHON3})
else()
  find_program(FORKSAN_TEST_PYTHON3 NAMES python3 REQUIRED)
endif()
foreach(entry ${fs_cpythons})
  string(REGEX REPLACE "=.*" "" name "${entry}")
  string(REGEX REPLACE "^[^=]*=" "" interp "${entry}")
  add_test(NAME cpython/${name}
           COMMAND ${FORKSAN_TEST_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/cpython/run_suites.py
                   --forksan $<TARGET_FILE:forksan> --python ${interp}
                   --work ${CMAKE_CURRENT_BINARY_DIR}/cpython-work/${name})
  set_tests_properties(cpython/${name} PROPERTIES LABELS cpython TIMEOUT 1200
                                                  SKIP_RETURN_CODE 77)
endforeach()

# The driver itself: it must fail on a changed outcome or an unlisted error finding, and
# tolerate a flaky test and a listed error (a forksan wrapper fakes each).
if(FORKSAN_SYSTEM_PYTHON3)
  add_test(NAME cpython/driver-selftest
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cpython/selftest.sh $<TARGET_FILE:forksan>
                   ${FORKSAN_SYSTEM_PYTHON3} ${CMAKE_CURRENT_BINARY_DIR}/cpython-work/selftest)
  set_tests_properties(cpython/driver-selftest PROPERTIES LABELS cpython TIMEOUT 600
                                                          SKIP_RETURN_CODE 77)
endif()

# The Python cases of cases/ on every interpreter above (`forksan cases --python`): each case
# declares the CPython versions its expectations hold for, and is skipped on the others.  A run
# that failed while reporting fork-lock-race's documented table loss reruns its failed cases once
# (cases_python.sh).
file(GLOB fs_py_case_files ${CMAKE_SOURCE_DIR}/cases/py_*.py)
set(fs_py_cases)
foreach(f ${fs_py_case_files})
  get_filename_component(n ${f} NAME_WE)
  list(APPEND fs_py_cases ${n})
endforeach()
list(SORT fs_py_cases)
foreach(entry ${fs_cpythons})
  string(REGEX REPLACE "=.*" "" name "${entry}")
  string(REGEX REPLACE "^[^=]*=" "" interp "${entry}")
  add_test(NAME cases-python/${name}
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cpython/cases_python.sh $<TARGET_FILE:forksan>
                   ${interp} ${fs_py_cases})
  set_tests_properties(cases-python/${name} PROPERTIES LABELS cpython TIMEOUT 900)
endforeach()
