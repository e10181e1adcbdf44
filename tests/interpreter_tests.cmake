# interpreter_tests.cmake - tests for one interpreter; included by
# CMakeLists.txt once per interpreter with PY_tag, PY_include, PY_library,
# PY_libdir, PY_prefix and `target` (its pymembench) set.
# A C test program embedding this interpreter: build/<tag>/<name>, built
# from `sources` with our warnings, linked to its libpython with an rpath.
# pymembench's own files come as its object libraries (CMakeLists.txt), e.g.
# $<TARGET_OBJECTS:pymb_pyx-${PY_tag}>: compiled once for both.
function(pymb_embed_test name)
  set(t ${name}-${PY_tag})
  add_executable(${t} ${ARGN})
  target_include_directories(${t} PRIVATE harness workloads/fixtures)
  target_include_directories(${t} SYSTEM PRIVATE ${PY_include})
  target_compile_definitions(${t} PRIVATE PYMB_PYTHON_HOME="${PY_prefix}")
  target_compile_options(${t} PRIVATE ${PYMB_C_WARNINGS})
  if(PY_debug)
    target_compile_definitions(${t} PRIVATE Py_DEBUG)
  endif()
  target_link_libraries(${t} PRIVATE ${PY_library})
  set_target_properties(${t} PROPERTIES OUTPUT_NAME ${name}
                        RUNTIME_OUTPUT_DIRECTORY ${dir} BUILD_RPATH "${PY_libdir}")
endfunction()

set(_hook_test test_memhook-${PY_tag})
pymb_embed_test(test_memhook tests/test_memhook.c $<TARGET_OBJECTS:pymb_pyx-${PY_tag}>)
target_link_libraries(${_hook_test} PRIVATE Threads::Threads)
add_test(NAME memhook/${PY_tag}/exact_counts COMMAND ${_hook_test})

add_test(NAME embed/${PY_tag}/allocators_usage_rpath
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_embed.py
                 $<TARGET_FILE:${target}> ${PY_libdir})
# Every case of the full suite on the first interpreter but its buffers at
# 64 and 256 MiB (the code paths of 16 MiB; 2-7 s each,
# 150 CPU seconds in all). On the others, buffers up to 4 MiB, and none of
# the cases another test of that interpreter runs and checks: gc/ and
# lifetime/ (balance/<tag>, twice each), alloc/fragment/keep_one_in/
# (alloc/<tag>) (docs/tests.md).
list(LENGTH PYMB_TAGS _ntags)
# _first_of_minor: this is the first interpreter of its CPython minor version
# (a free-threaded build counts as a version of its own), for checks the
# version can change but a second build of it (debug, another vendor's) not.
if(_ntags EQUAL 1)
  set(PYMB_MINORS "")
endif()
string(REGEX MATCH "^[0-9]+\\.[0-9]+" _minor "${PY_version}")
if(PY_free_threaded)
  string(APPEND _minor t)
endif()
set(_first_of_minor 0)
if(NOT _minor IN_LIST PYMB_MINORS)
  list(APPEND PYMB_MINORS ${_minor})
  set(_first_of_minor 1)
endif()
if(_ntags EQUAL 1)
  add_test(NAME smoke/${PY_tag}/every_case_buffers_to_16MiB
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_smoke.py
                   $<TARGET_FILE:${target}> ${CMAKE_SOURCE_DIR}/scripts/validate-results
                   "^buffers/.*/(67108864|268435456)$")
else()
  add_test(NAME smoke/${PY_tag}/cases_no_other_test_runs_buffers_to_4MiB
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_smoke.py
                   $<TARGET_FILE:${target}> ${CMAKE_SOURCE_DIR}/scripts/validate-results
                   "^(gc|lifetime)/|^alloc/fragment/keep_one_in/|^buffers/.*/(16777216|67108864|268435456)$")
endif()
# memcheck on the first interpreter only (about two minutes): the smallest
# param of each case, less alloc/fragment/* and gc/frozen_heap/* (100,000 to
# 2 million objects built, 15-45 s each under valgrind; the smoke run of
# make test SANITIZE=1 covers them).
if(_ntags EQUAL 1)
  if(PYMB_SANITIZE)
    pymb_skip_test(memcheck/${PY_tag}/smallest_param_of_every_case
      "valgrind cannot run an AddressSanitizer binary (make test runs this test)")
  else()
    add_test(NAME memcheck/${PY_tag}/smallest_param_of_every_case
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_memcheck.py
                     $<TARGET_FILE:${target}> "^(alloc/fragment|gc/frozen_heap)/")
  endif()
endif()
# Documentation that cannot drift, on the first interpreter (the docs are
# one, and the check allows what another build lists differently): docs/cases.md
# against this binary's --list, README.md's length, relative links in docs.
if(_ntags EQUAL 1)
  add_test(NAME docs/${PY_tag}/cases_match_list
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_docs.py
                   $<TARGET_FILE:${target}>)
endif()
add_test(NAME bindings/${PY_tag}/layers_or_skip_line_counts_planted_leak
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_bindings.py
                 $<TARGET_FILE:${target}> ${PY_tag})
add_test(NAME containers/${PY_tag}/element_sizes_boxing_zero_copy_planted_faults
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_containers.py
                 $<TARGET_FILE:${target}>)
add_test(NAME buffers/${PY_tag}/numpy_views_copies_or_one_skip_reason
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_numpy.py
                 $<TARGET_FILE:${target}> ${PY_tag})
add_test(NAME lifetime/${PY_tag}/sqlite_files_descriptors_locks_collector
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_real_resources.py
                 $<TARGET_FILE:${target}> ${PY_tag})
add_test(NAME results/${PY_tag}/interrupt_leaves_no_file
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_interrupt.py
                 $<TARGET_FILE:${target}>)

set(_cases_test test_cases-${PY_tag})
pymb_embed_test(test_cases tests/test_cases.c bench/pins.c $<TARGET_OBJECTS:pymb_cases-${PY_tag}>
                $<TARGET_OBJECTS:pymb_resource-${PY_tag}> $<TARGET_OBJECTS:pymb_pyx-${PY_tag}>)
target_link_libraries(${_cases_test} PRIVATE gbshim)
target_include_directories(${_cases_test} PRIVATE bench)
set_target_properties(${_cases_test} PROPERTIES LINKER_LANGUAGE CXX)
add_test(NAME harness/${PY_tag}/case_wrapper
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_cases.py
                 $<TARGET_FILE:${_cases_test}>)

set(_res_test test_resource-${PY_tag})
pymb_embed_test(test_resource tests/test_resource.c $<TARGET_OBJECTS:pymb_pyx-${PY_tag}>
                $<TARGET_OBJECTS:pymb_resource-${PY_tag}>)
add_test(NAME resource/${PY_tag}/counters_see_leaks_and_double_releases COMMAND ${_res_test})

add_test(NAME balance/${PY_tag}/gc_lifetime_interleaved
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_balance.py
                 $<TARGET_FILE:${target}>)

if(PYMB_SANITIZE)
  message(STATUS "pymembench: skipping part of test alloc/${PY_tag}/exact_counts_arenas_preload:"
          " LD_PRELOAD allocators (the ASan runtime must be the first library loaded) and the"
          " process peak (ASan's quarantine keeps freed memory resident)")
endif()
add_test(NAME alloc/${PY_tag}/exact_counts_arenas_preload
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_alloc.py
                 $<TARGET_FILE:${target}>)

add_test(NAME stress/${PY_tag}/planted_faults_real_cases_bad_input
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_stress.py
                 $<TARGET_FILE:${target}>)

# make bench's crash isolation, Ctrl-C and bad input: on the first
# interpreter (the script's logic does not depend on the version).
if(_ntags EQUAL 1)
  add_test(NAME bench/${PY_tag}/crash_isolation_interrupt_bad_input
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_bench.py
                   $<TARGET_FILE:${target}> ${PY_executable})
endif()

# Deterministic mode (--instructions, callgrind): what the version can change
# (counts repeat) on the first interpreter of each minor version; the
# harness's own logic (only the loop counted, threads skipped, crashes, the
# heap a case forks from, bad input, --jobs) on the first; make regress end
# to end on the first. callgrind cannot run ASan binaries.
if(PYMB_SANITIZE)
  if(_first_of_minor)
    pymb_skip_test(instructions/${PY_tag}/counts_repeat
      "callgrind cannot run an AddressSanitizer binary (make test runs this test)")
  endif()
  if(_ntags EQUAL 1)
    pymb_skip_test(instructions/${PY_tag}/loop_only_threads_crash_heap_bad_input
      "callgrind cannot run an AddressSanitizer binary (make test runs this test)")
    pymb_skip_test(instructions/${PY_tag}/jobs_same_counts_crash_interrupt_bad_input
      "callgrind cannot run an AddressSanitizer binary (make test runs this test)")
  endif()
else()
  if(_first_of_minor)
    add_test(NAME instructions/${PY_tag}/counts_repeat
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_instructions.py
                     $<TARGET_FILE:${target}> counts)
  endif()
  if(_ntags EQUAL 1)
    add_test(NAME instructions/${PY_tag}/loop_only_threads_crash_heap_bad_input
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_instructions.py
                     $<TARGET_FILE:${target}> harness)
  endif()
  # several cases counted at once (--jobs) and make regress's JOBS: the
  # harness's scheduling, on the first interpreter (30-45 CPU seconds each)
  if(_ntags EQUAL 1)
    add_test(NAME instructions/${PY_tag}/jobs_same_counts_crash_interrupt_bad_input
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_instructions_jobs.py
                     $<TARGET_FILE:${target}> ${PY_executable})
  endif()
endif()
if(_ntags EQUAL 1)
  if(PYMB_SANITIZE)
    pymb_skip_test(regress/${PY_tag}/base_vs_head_unchanged_commit_planted_bad_input
      "callgrind cannot run an AddressSanitizer binary (make test runs this test)")
    pymb_skip_test(make/${PY_tag}/no_injection_exit_codes_strict_json
      "make's edges do not depend on the build (make test runs this test)")
    pymb_skip_test(make/${PY_tag}/ctrl_c_bench_stress_regress
      "Ctrl-C handling does not depend on the build (make test runs this test)")
    pymb_skip_test(instructions/${PY_tag}/paths_environment_filter_text_move_no_count
      "callgrind cannot run an AddressSanitizer binary (make test runs this test)")
  else()
    # an unchanged commit is never an instruction regression: two runs that
    # differ in paths, environment and filter text count alike
    add_test(NAME instructions/${PY_tag}/paths_environment_filter_text_move_no_count
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_instructions_aa.py
                     $<TARGET_FILE:${target}>)
    add_test(NAME regress/${PY_tag}/base_vs_head_unchanged_commit_planted_bad_input
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_regress.py
                     $<TARGET_FILE:${target}> ${PY_executable})
    # make's own edges: values as data, exit codes, strict JSON
    add_test(NAME make/${PY_tag}/no_injection_exit_codes_strict_json
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_make.py
                     $<TARGET_FILE:${target}> ${PY_executable})
    add_test(NAME make/${PY_tag}/ctrl_c_bench_stress_regress
             COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_ctrl_c.py
                     $<TARGET_FILE:${target}> ${PY_executable})
  endif()
endif()
