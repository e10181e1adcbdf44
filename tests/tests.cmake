# tests.cmake - tests that do not depend on an interpreter (included once).
find_package(Python3 COMPONENTS Interpreter REQUIRED)

add_executable(test_shim tests/test_shim.c)
target_link_libraries(test_shim PRIVATE gbshim)
target_compile_options(test_shim PRIVATE ${PYMB_C_WARNINGS})
set_target_properties(test_shim PROPERTIES LINKER_LANGUAGE CXX
                      RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME shim/registration_counters_json
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_shim.py $<TARGET_FILE:test_shim>)

# Always -O2, whatever the build type: the point is surviving optimisation.
if(PYMB_SANITIZE)
  pymb_skip_test(shim/do_not_optimize_survives_O2
    "callgrind cannot run an AddressSanitizer binary (and the sanitizers change what -O2 does)")
else()
  add_executable(test_dno tests/test_dno.c)
  target_include_directories(test_dno PRIVATE harness)
  target_compile_options(test_dno PRIVATE ${PYMB_C_WARNINGS} -O2 -Wno-missing-prototypes)
  set_target_properties(test_dno PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  add_test(NAME shim/do_not_optimize_survives_O2
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_dno.py $<TARGET_FILE:test_dno>)
endif()

add_test(NAME scripts/find_pythons
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_find_pythons.py
                 ${CMAKE_SOURCE_DIR}/scripts/find-pythons)

add_test(NAME scripts/hook_overhead_and_variation
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_result_scripts.py
                 ${CMAKE_SOURCE_DIR}/scripts/figures)

add_test(NAME scripts/stats_verdicts_fdr_stop_rule
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_stats.py
                 ${CMAKE_SOURCE_DIR}/scripts)

add_test(NAME scripts/compare_ratios_intervals_bad_input
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_compare.py
                 ${CMAKE_SOURCE_DIR}/scripts)

add_test(NAME scripts/stress_verdict_attribution_ours_known_new
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_attribution.py)

add_test(NAME scripts/describe_one_run_summary_charts_bad_input
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_describe.py
                 ${CMAKE_SOURCE_DIR}/scripts)

add_test(NAME scripts/adaptive_sampling_next_round_progress
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_adaptive.py
                 ${CMAKE_SOURCE_DIR})

add_test(NAME scripts/processes_summary_plots_hyperfine
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_processes.py
                 ${CMAKE_SOURCE_DIR}/scripts)

add_test(NAME scripts/history_plots_charts_ratios_bad_input
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_history_plots.py
                 ${CMAKE_SOURCE_DIR})

add_test(NAME scripts/readers_refuse_bad_files
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_bad_files.py
                 ${CMAKE_SOURCE_DIR}/scripts)

add_test(NAME lint/shellcheck_every_shell_script
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_shellcheck.py
                 ${CMAKE_SOURCE_DIR})

add_test(NAME lint/clang_format_pep7_layout
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_format.py
                 ${CMAKE_SOURCE_DIR})
