# Real prefork servers (nginx with `user nobody`, apache2 prefork; gunicorn below) natively and under
# `forksan run`: same responses and exit status, every worker traced.  Labelled `servers` so a
# run can leave them out (ctest -LE servers); skipped (77) without root or without the servers
# (scripts/install-deps.sh installs them).
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME servers/prefork
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/servers/servers.py
                   $<TARGET_FILE:forksan> nginx apache2 apache2-stop apache2-restart)
  set_tests_properties(servers/prefork PROPERTIES LABELS servers TIMEOUT 300
                       SKIP_RETURN_CODE 77 FAIL_REGULAR_EXPRESSION "not ok - ")
  # gunicorn, a Python prefork server: no false finding from the runtime's own exit handlers
  # (libcrypto's, logging's), and the app's own atexit callback reported when it is preloaded.
  # Needs no root; skipped (77) without gunicorn.
  add_test(NAME servers/gunicorn
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/servers/gunicorn.py
                   $<TARGET_FILE:forksan>)
  set_tests_properties(servers/gunicorn PROPERTIES LABELS servers TIMEOUT 300
                       SKIP_RETURN_CODE 77 FAIL_REGULAR_EXPRESSION "not ok - ")
endif()
