# Tests that the shim never changes its host's behaviour: semantics (every interposed call's
# results and errno) and stress (threads and forks at once) run natively and under the shim,
# and the shim's dynamic symbol table is compared with preload/exports.map.  The programs are
# the host under test, so they are built without the analyzer's sanitizer flags (ASan's own
# interceptors would sit between them and the shim), at -O1 so they stay readable in gdb.
set(FS_SHIM_TEST_DIR ${CMAKE_CURRENT_SOURCE_DIR}/shim)
set(FS_SHIM_TRACE_ROOT ${CMAKE_CURRENT_BINARY_DIR}/shim-traces)

foreach(prog semantics stress rng_exact torn privdrop thread_start kill_child rng_states rng_cache
             loader_lock)
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
# torn: trace writes from many threads and from a SIGALRM handler while others fork; the parent's
# trace must have no torn, empty or doubled record, and every fork recorded or counted lost.
add_test(NAME shim/torn/threads
         COMMAND sh ${FS_SHIM_TEST_DIR}/torn.sh $<TARGET_FILE:forksan_preload> $<TARGET_FILE:forksan>
                 ${FS_SHIM_TRACE_ROOT}/torn-threads $<TARGET_FILE:fs_shim_torn> threads 600 4 400)
add_test(NAME shim/torn/alarm
         COMMAND sh ${FS_SHIM_TEST_DIR}/torn.sh $<TARGET_FILE:forksan_preload> $<TARGET_FILE:forksan>
                 ${FS_SHIM_TRACE_ROOT}/torn-alarm $<TARGET_FILE:fs_shim_torn> alarm 200)
# privdrop: setuid/setgid/setgroups, close_range/closefrom, dup2 onto the shim's numbers, a
# lowered RLIMIT_NOFILE and chroot, each followed by a fork with a lock held (needs root: 77).
add_test(NAME shim/privdrop
         COMMAND sh ${FS_SHIM_TEST_DIR}/privdrop.sh $<TARGET_FILE:forksan_preload>
                 $<TARGET_FILE:forksan> ${FS_SHIM_TRACE_ROOT}/privdrop $<TARGET_FILE:fs_shim_privdrop>)
set_tests_properties(shim/privdrop PROPERTIES SKIP_RETURN_CODE 77)
add_test(NAME shim/torn/atfork
         COMMAND sh ${FS_SHIM_TEST_DIR}/torn.sh $<TARGET_FILE:forksan_preload> $<TARGET_FILE:forksan>
                 ${FS_SHIM_TRACE_ROOT}/torn-atfork $<TARGET_FILE:fs_shim_torn> atfork 50)
# thread_start: forks right after pthread_create; the new thread is known with its start routine.
add_test(NAME shim/thread_start/native COMMAND fs_shim_thread_start)
add_test(NAME shim/thread_start/preload
         COMMAND sh ${FS_SHIM_TEST_DIR}/run_shim.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/thread_start 40 $<TARGET_FILE:forksan>
                 $<TARGET_FILE:fs_shim_thread_start>)
# stress scale: 1,000 threads alive at once churning mutexes, a rwlock and a semaphore while 4
# threads fork, FORKSAN_STRESS_SECONDS long (3 here; 30 by hand); no lost or damaged record.
add_test(NAME shim/stress/scale-native COMMAND fs_shim_stress scale)
add_test(NAME shim/stress/scale-preload
         COMMAND sh ${FS_SHIM_TEST_DIR}/stress_scale.sh $<TARGET_FILE:forksan_preload>
                 $<TARGET_FILE:forksan> ${FS_SHIM_TRACE_ROOT}/stress-scale
                 $<TARGET_FILE:fs_shim_stress>)
# kill_child: children SIGKILLed right after fork leave whole records or none (report: no damage).
add_test(NAME shim/kill_child
         COMMAND sh ${FS_SHIM_TEST_DIR}/run_shim.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/kill_child 1 $<TARGET_FILE:forksan>
                 $<TARGET_FILE:fs_shim_kill_child>)
# rng_states: more live rand_r states than the shim's table: lost counted per state, not per draw.
add_test(NAME shim/rng_states
         COMMAND sh ${FS_SHIM_TEST_DIR}/rng_states.sh $<TARGET_FILE:forksan_preload>
                 $<TARGET_FILE:forksan> ${FS_SHIM_TRACE_ROOT}/rng_states
                 $<TARGET_FILE:fs_shim_rng_states>)
# rng_cache: the caller-held generators' per-thread cache, two threads and a signal handler
# drawing at once: every draw counted in its own state's position.
add_test(NAME shim/rng_cache
         COMMAND sh ${FS_SHIM_TEST_DIR}/rng_cache.sh $<TARGET_FILE:forksan_preload>
                 $<TARGET_FILE:forksan> ${FS_SHIM_TRACE_ROOT}/rng_cache
                 $<TARGET_FILE:fs_shim_rng_cache>)
# loader_lock: children of a thread that holds ld.so's lock in dl_iterate_phdr at the fork never
# block in the shim's unwinder (they record no stacks instead); with deep lock stacks, the other
# thread is inside libunwind itself at many forks.
add_test(NAME shim/loader_lock/native COMMAND fs_shim_loader_lock 100)
add_test(NAME shim/loader_lock/preload
         COMMAND sh ${FS_SHIM_TEST_DIR}/run_shim.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/loader_lock 101 $<TARGET_FILE:forksan>
                 $<TARGET_FILE:fs_shim_loader_lock> 200)
add_test(NAME shim/loader_lock/preload-lockstack
         COMMAND ${CMAKE_COMMAND} -E env FORKSAN_LOCK_STACK=8
                 sh ${FS_SHIM_TEST_DIR}/run_shim.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/loader_lock-lockstack 101 $<TARGET_FILE:forksan>
                 $<TARGET_FILE:fs_shim_loader_lock> 200)
set(FS_SHIM_RUNS shim/loader_lock/native shim/loader_lock/preload shim/loader_lock/preload-lockstack shim/rng_cache shim/rng_states shim/kill_child shim/stress/scale-native shim/stress/scale-preload shim/thread_start/native shim/thread_start/preload shim/torn/atfork shim/privdrop shim/torn/threads shim/torn/alarm shim/semantics/native shim/semantics/preload shim/semantics/preload-lockstack
                 shim/stress/native shim/stress/preload shim/rng_exact/native
                 shim/rng_exact/preload shim/rng_exact/compare)
set_tests_properties(${FS_SHIM_RUNS} PROPERTIES TIMEOUT 120)
# The exit status decides; a "not ok" line fails the test even if a status got lost.
set_tests_properties(${FS_SHIM_RUNS} PROPERTIES FAIL_REGULAR_EXPRESSION "not ok - ")

add_test(NAME shim/exports
         COMMAND sh ${FS_SHIM_TEST_DIR}/check_exports.sh $<TARGET_FILE:forksan_preload>
                 ${CMAKE_SOURCE_DIR}/preload/exports.map)
set_tests_properties(shim/exports PROPERTIES TIMEOUT 30)

# Modules loaded by dlopen after start-up are in the module map of the next fork (the load
# count the shim reads without the loader's lock).
add_executable(fs_shim_modmap_dlopen ${FS_SHIM_TEST_DIR}/modmap_dlopen.c)
target_compile_options(fs_shim_modmap_dlopen PRIVATE -O1 -g)
target_link_libraries(fs_shim_modmap_dlopen PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(fs_shim_modmap_dlopen PROPERTIES OUTPUT_NAME shim_modmap_dlopen
                                                      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_dependencies(fs_shim_modmap_dlopen forksan_preload fs_shim_dl_peer fs_shim_dl_peer2)
add_test(NAME shim/modmap_dlopen
         COMMAND sh ${FS_SHIM_TEST_DIR}/modmap_dlopen.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/modmap_dlopen $<TARGET_FILE:fs_shim_modmap_dlopen>
                 $<TARGET_FILE:fs_shim_dl_peer> $<TARGET_FILE:fs_shim_dl_peer2>)
set_tests_properties(shim/modmap_dlopen PROPERTIES TIMEOUT 60 FAIL_REGULAR_EXPRESSION "not ok - ")

# A child that forked with nothing to report settles its registry slot's tid before it forks.
add_executable(fs_shim_settle_tid ${FS_SHIM_TEST_DIR}/settle_tid.c)
target_compile_options(fs_shim_settle_tid PRIVATE -O1 -g)
target_link_libraries(fs_shim_settle_tid PRIVATE Threads::Threads)
set_target_properties(fs_shim_settle_tid PROPERTIES OUTPUT_NAME shim_settle_tid
                                                   RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_dependencies(fs_shim_settle_tid forksan_preload)
add_test(NAME shim/settle_tid
         COMMAND sh ${FS_SHIM_TEST_DIR}/settle_tid.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/settle_tid $<TARGET_FILE:fs_shim_settle_tid>)
set_tests_properties(shim/settle_tid PROPERTIES TIMEOUT 60 FAIL_REGULAR_EXPRESSION "not ok - ")

# The shim's touched variables stay in one place: see check_layout.py.
add_test(NAME shim/layout
         COMMAND python3 ${FS_SHIM_TEST_DIR}/check_layout.py
                 $<TARGET_FILE:forksan_preload>)
set_tests_properties(shim/layout PROPERTIES TIMEOUT 30)

# dl_exact: dlsym and dlvsym under the shim.  Two small libraries linked after the shim give
# RTLD_NEXT a module of its own to start from; the "= " lines must be identical natively and under
# the shim (compare_runs.sh), the redirected lookups are checked by the program itself.
add_library(fs_shim_dl_peer2 SHARED ${FS_SHIM_TEST_DIR}/dl_peer2.c)
add_library(fs_shim_dl_peer SHARED ${FS_SHIM_TEST_DIR}/dl_peer.c)
foreach(lib fs_shim_dl_peer fs_shim_dl_peer2)
  target_compile_options(${lib} PRIVATE -O1 -g)
  set_target_properties(${lib} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
endforeach()
target_link_libraries(fs_shim_dl_peer PRIVATE ${CMAKE_DL_LIBS})
add_executable(fs_shim_dl_exact ${FS_SHIM_TEST_DIR}/dl_exact.c)
target_compile_options(fs_shim_dl_exact PRIVATE -O1 -g)
# Link order is load order: dl_peer, then dl_peer2, whose dl_peer_hook is dl_peer's "next".
target_link_libraries(fs_shim_dl_exact PRIVATE fs_shim_dl_peer fs_shim_dl_peer2 Threads::Threads
                      ${CMAKE_DL_LIBS})
target_link_options(fs_shim_dl_exact PRIVATE -Wl,--no-as-needed)
set_target_properties(fs_shim_dl_exact PROPERTIES OUTPUT_NAME shim_dl_exact
                                                  RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
add_dependencies(fs_shim_dl_exact forksan_preload)
add_test(NAME shim/dl_exact/native COMMAND fs_shim_dl_exact)
add_test(NAME shim/dl_exact/preload
         COMMAND sh ${FS_SHIM_TEST_DIR}/run_shim.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/dl_exact 1 - $<TARGET_FILE:fs_shim_dl_exact>)
add_test(NAME shim/dl_exact/compare
         COMMAND sh ${FS_SHIM_TEST_DIR}/compare_runs.sh $<TARGET_FILE:forksan_preload>
                 ${FS_SHIM_TRACE_ROOT}/dl_exact-compare $<TARGET_FILE:fs_shim_dl_exact>)
# The same with dl_peer preloaded before the shim: its RTLD_NEXT then reaches the shim natively.
add_test(NAME shim/dl_exact/preload-peer-first
         COMMAND sh ${FS_SHIM_TEST_DIR}/run_shim.sh
                 "$<TARGET_FILE:fs_shim_dl_peer> $<TARGET_FILE:forksan_preload>"
                 ${FS_SHIM_TRACE_ROOT}/dl_exact-peer-first 1 - $<TARGET_FILE:fs_shim_dl_exact>)
add_test(NAME shim/dl_exact/compare-peer-first
         COMMAND ${CMAKE_COMMAND} -E env NATIVE_PRELOAD=$<TARGET_FILE:fs_shim_dl_peer>
                 sh ${FS_SHIM_TEST_DIR}/compare_runs.sh
                 "$<TARGET_FILE:fs_shim_dl_peer> $<TARGET_FILE:forksan_preload>"
                 ${FS_SHIM_TRACE_ROOT}/dl_exact-compare-peer-first $<TARGET_FILE:fs_shim_dl_exact>)
set_tests_properties(shim/dl_exact/native shim/dl_exact/preload shim/dl_exact/compare
                     shim/dl_exact/preload-peer-first shim/dl_exact/compare-peer-first
                     PROPERTIES TIMEOUT 60 FAIL_REGULAR_EXPRESSION "not ok - ")
