# Tests that the shim never changes its host's behaviour: semantics (every interposed call's
# results and errno) and stress (threads and forks at once) run natively and under the shim,
# and the shim's dynamic symbol table is compared with preload/exports.map.  The programs are
# the host under test, so they are built without the analyzer's sanitizer flags (ASan's own
# interceptors would sit between them and the shim), at -O1 so they stay readable in gdb.
set(FS_SHIM_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/shim)
set(FS_SHIM_TRACE_ROOT ${CMAKE_CURRENT_BINARY_DIR}/shim-traces)

foreach(prog semantics stress rng_exact)
  set(target fs_shim_${prog})
  add_executable(${target} ${FS_SHIM_TEST_DIR}/${prog}.c)
  target_compile_options(${target} PRIVATE -O1 -g)
  target_link_libraries(${target} PRIVATE Threads::Threads)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME shim_${prog}
                                             RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  add_dependencies(${target} forksan_preload)
endforeach()

add_test(NAME shim/semantics/native COMMAND fs_shim_semantics)
# semantics: its forks from a single thread are written lazily, so only a few files are certain.
add_test(NAME shim/semantics/preload
         COMMAND sh ${FS_SHIM_TEST_DIR}/run_shim.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/semantics 2 $<TARGET_FILE:forksan>
                 $<TARGET_FILE:fs_shim_semantics>)
# With deep lock stacks every acquisition unwinds the caller's stack inside the lock hooks.
add_test(NAME shim/semantics/preload-lockstack
         COMMAND ${CMAKE_COMMAND} -E env FORKSAN_LOCK_STACK=8
                 sh ${FS_SHIM_TEST_DIR}/run_shim.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/semantics-lockstack 2 $<TARGET_FILE:forksan>
                 $<TARGET_FILE:fs_shim_semantics>)
# ... and every kind of lock, semaphores included, gets the caller's stack, from the caller.
add_test(NAME shim/lockstack-frames
         COMMAND sh ${FS_SHIM_TEST_DIR}/lockstack_frames.sh $<TARGET_FILE:forksan>
                 $<TARGET_FILE:fs_case_mutex_held> $<TARGET_FILE:fs_case_spin_held>
                 $<TARGET_FILE:fs_case_rwlock_write_held> $<TARGET_FILE:fs_case_rwlock_read_held>
                 $<TARGET_FILE:fs_case_c11_mtx_held> $<TARGET_FILE:fs_case_sem_binary_held>)
add_test(NAME shim/stress/native COMMAND fs_shim_stress)
# stress: the parent plus one file per child (every child has a multi-threaded parent).
add_test(NAME shim/stress/preload
         COMMAND sh ${FS_SHIM_TEST_DIR}/run_shim.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/stress 201 $<TARGET_FILE:forksan>
                 $<TARGET_FILE:fs_shim_stress>)
# rng_exact: every generator's values and errno, natively, under the shim, and both compared.
add_test(NAME shim/rng_exact/native COMMAND fs_shim_rng_exact)
add_test(NAME shim/rng_exact/preload
         COMMAND sh ${FS_SHIM_TEST_DIR}/run_shim.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/rng_exact 1 $<TARGET_FILE:forksan>
                 $<TARGET_FILE:fs_shim_rng_exact>)
add_test(NAME shim/rng_exact/compare
         COMMAND fs_shim_rng_exact --compare $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/rng_exact-compare)
set(FS_SHIM_RUNS shim/semantics/native shim/semantics/preload shim/semantics/preload-lockstack
                 shim/stress/native shim/stress/preload shim/rng_exact/native
                 shim/rng_exact/preload shim/rng_exact/compare)
set_tests_properties(${FS_SHIM_RUNS} PROPERTIES TIMEOUT 120)
# The exit status decides; a "not ok" line fails the test even if a status got lost.
set_tests_properties(${FS_SHIM_RUNS} PROPERTIES FAIL_REGULAR_EXPRESSION "not ok - ")

add_test(NAME shim/exports
         COMMAND sh ${FS_SHIM_TEST_DIR}/check_exports.sh $<TARGET_FILE:forksan_preload>
                 ${CMAKE_SOURCE_DIR}/preload/exports.map)
set_tests_properties(shim/exports PROPERTIES TIMEOUT 30)
