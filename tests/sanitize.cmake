# sanitize.cmake - what the tests need under PYMB_SANITIZE (make test
# SANITIZE=1): a way to register a test that cannot run in this build as
# skipped with its reason, and the sanitizer options every test runs with.
# Included by CMakeLists.txt before any test is added.

# A test that cannot run here: ctest lists it as skipped, the configure
# output (shown by scripts/build) and the test's own output say why.
function(pymb_skip_test name reason)
  add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -E echo "skipped: ${reason}")
  set_tests_properties(${name} PROPERTIES SKIP_REGULAR_EXPRESSION "^skipped: ")
  message(STATUS "pymembench: skipping test ${name}: ${reason}")
endfunction()

# Any sanitizer report fails the run with exit 86, which no test expects of
# pymembench (0 ok, 1 a failed check, 2 usage). pymembench's own SIGSEGV
# handler stays in place (allow_user_segv_handler): it names the crashed
# case, which the crash-isolation tests check. LeakSanitizer stays on:
# CPython leaves memory allocated at exit by design, so tests/lsan.supp
# suppresses leaks allocated through libpython; a leak from our own malloc
# calls is still reported.
function(pymb_sanitizer_environment)
  if(NOT PYMB_SANITIZE)
    return()
  endif()
  get_property(tests DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTY TESTS)
  set_property(TEST ${tests} APPEND PROPERTY ENVIRONMENT
    "ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:exitcode=86:detect_leaks=1:check_initialization_order=1:allow_user_segv_handler=1"
    "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=86"
    "LSAN_OPTIONS=suppressions=${CMAKE_SOURCE_DIR}/tests/lsan.supp:print_suppressions=0"
    "PYMB_SANITIZE=1")
endfunction()
