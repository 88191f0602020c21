# fork-lock-race on the statistics-thread program of issue 11: reported on every run, with the
# statistics thread's lock line and the writer's (tests/race/run.sh).  The program's timing is
# real, so the lock may also be caught held at a fork: the test checks for the race finding only.
add_executable(fs_race_stats ${CMAKE_CURRENT_LIST_DIR}/stats.c)
target_compile_options(fs_race_stats PRIVATE -O0 -g -fno-omit-frame-pointer)
target_link_libraries(fs_race_stats PRIVATE Threads::Threads)
set_target_properties(fs_race_stats PROPERTIES OUTPUT_NAME race_stats
                                               RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_test(NAME race_stats COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:forksan>
                                 $<TARGET_FILE:fs_race_stats> ${CMAKE_CURRENT_LIST_DIR}/stats.c)
set_tests_properties(race_stats PROPERTIES TIMEOUT 180)
