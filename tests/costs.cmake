# costs.cmake - the order make test starts its tests in. ctest -j starts the
# tests of highest COST first. A fresh build tree has no measured times yet
# (ctest keeps them in Testing/Temporary/CTestCostData.txt after a run and
# uses those instead), and without a COST ctest would go by declaration
# order: a long test declared late (memcheck, regress, the debug
# interpreter's) would start last and run alone while the other core idles.
# Costs are about the CPU seconds these tests took on the project's 2-core
# machine (2026-12); only their order matters. The
# first pattern that matches a test's name gives its cost; tests no pattern
# matches (a few seconds each) keep cost 0 and run last, in declaration
# order. Included by CMakeLists.txt after every test is added.
set(PYMB_TEST_COSTS
  "^memcheck/=110"
  "^regress/=100"
  "^smoke/.*/every_case_buffers_to_16MiB$=45"
  "^make/.*/no_injection=35"
  "^scripts/readers_refuse_bad_files$=32"
  "^instructions/.*/jobs_=30"
  "^instructions/.*/loop_only_threads_crash_heap_bad_input$=40"
  "^instructions/.*/counts_repeat$=20"
  "^smoke/cpython-[0-9.]+d[-/]=30"
  "^balance/cpython-[0-9.]+d[-/]=20"
  "^scripts/find_pythons$=12"
  "^instructions/=12"
  "^smoke/=10"
  "^alloc/=10"
  "^balance/=9"
  "^stress/=8"
  "^bench/=7")

function(pymb_test_costs)
  get_property(tests DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTY TESTS)
  foreach(t IN LISTS tests)
    # a test registered as skipped (pymb_skip_test) only echoes its reason
    get_test_property(${t} SKIP_REGULAR_EXPRESSION skip)
    if(skip)
      continue()
    endif()
    foreach(entry IN LISTS PYMB_TEST_COSTS)
      string(REGEX MATCH "^(.*)=([0-9.]+)$" _ "${entry}")
      set(pattern "${CMAKE_MATCH_1}")
      set(cost ${CMAKE_MATCH_2})
      if("${t}" MATCHES "${pattern}")
        set_tests_properties(${t} PROPERTIES COST ${cost})
        break()
      endif()
    endforeach()
  endforeach()
endfunction()
