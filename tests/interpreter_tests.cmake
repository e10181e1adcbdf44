# interpreter_tests.cmake - tests for one interpreter; included by
# CMakeLists.txt once per interpreter with PY_tag, PY_include, PY_library,
# PY_libdir, PY_prefix and `target` (its pymembench) set.
set(_hook_test test_memhook-${PY_tag})
add_executable(${_hook_test} tests/test_memhook.c harness/memhook.c harness/pyx.c)
target_include_directories(${_hook_test} PRIVATE harness)
target_include_directories(${_hook_test} SYSTEM PRIVATE ${PY_include})
target_compile_definitions(${_hook_test} PRIVATE PYMB_PYTHON_HOME="${PY_prefix}")
target_compile_options(${_hook_test} PRIVATE ${PYMB_C_WARNINGS})
target_link_libraries(${_hook_test} PRIVATE ${PY_library} Threads::Threads)
set_target_properties(${_hook_test} PROPERTIES OUTPUT_NAME test_memhook
                      RUNTIME_OUTPUT_DIRECTORY ${dir} BUILD_RPATH "${PY_libdir}")
add_test(NAME memhook/${PY_tag}/exact_counts COMMAND ${_hook_test})

add_test(NAME embed/${PY_tag}/allocators_usage_rpath
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_embed.py
                 $<TARGET_FILE:${target}> ${PY_libdir})
add_test(NAME smoke/${PY_tag}/every_case
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_smoke.py
                 $<TARGET_FILE:${target}> ${CMAKE_SOURCE_DIR}/scripts/validate-results)
add_test(NAME results/${PY_tag}/interrupt_leaves_no_file
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_interrupt.py
                 $<TARGET_FILE:${target}>)

set(_cases_test test_cases-${PY_tag})
add_executable(${_cases_test} tests/test_cases.c harness/cases.c harness/gcx.c harness/resource.c harness/memhook.c
               harness/procmem.c harness/pyx.c)
target_include_directories(${_cases_test} PRIVATE harness)
target_include_directories(${_cases_test} SYSTEM PRIVATE ${PY_include})
target_compile_definitions(${_cases_test} PRIVATE PYMB_PYTHON_HOME="${PY_prefix}")
target_compile_options(${_cases_test} PRIVATE ${PYMB_C_WARNINGS})
target_link_libraries(${_cases_test} PRIVATE gbshim ${PY_library})
set_target_properties(${_cases_test} PROPERTIES OUTPUT_NAME test_cases LINKER_LANGUAGE CXX
                      RUNTIME_OUTPUT_DIRECTORY ${dir} BUILD_RPATH "${PY_libdir}")
add_test(NAME harness/${PY_tag}/case_wrapper
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_cases.py
                 $<TARGET_FILE:${_cases_test}>)

set(_res_test test_resource-${PY_tag})
add_executable(${_res_test} tests/test_resource.c harness/resource.c harness/pyx.c)
target_include_directories(${_res_test} PRIVATE harness)
target_include_directories(${_res_test} SYSTEM PRIVATE ${PY_include})
target_compile_definitions(${_res_test} PRIVATE PYMB_PYTHON_HOME="${PY_prefix}")
target_compile_options(${_res_test} PRIVATE ${PYMB_C_WARNINGS})
target_link_libraries(${_res_test} PRIVATE ${PY_library})
set_target_properties(${_res_test} PROPERTIES OUTPUT_NAME test_resource
                      RUNTIME_OUTPUT_DIRECTORY ${dir} BUILD_RPATH "${PY_libdir}")
add_test(NAME resource/${PY_tag}/counters_see_leaks_and_double_releases COMMAND ${_res_test})

add_test(NAME balance/${PY_tag}/gc_lifetime_interleaved
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tests/check_balance.py
                 $<TARGET_FILE:${target}>)
