# commit.cmake - writes OUT (commit.h) with the source tree's git commit,
# rewriting it only when the commit changes, so the binary always records
# the commit it was built from. Run with -DSRC=<tree> -DOUT=<file>.
# PYMB_COMMIT_LABEL in the build's environment replaces it (a tree without
# git; a base built in a worktree under a label of another length, which
# must move no instruction count: tests/check_regress.py).
if(DEFINED ENV{PYMB_COMMIT_LABEL})
  set(commit "$ENV{PYMB_COMMIT_LABEL}")
else()
  execute_process(COMMAND git -C "${SRC}" rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0 OR commit STREQUAL "")
    set(commit "unknown")
  else()
    execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(NOT dirty STREQUAL "")
      set(commit "${commit}-dirty")
    endif()
  endif()
endif()
# Padded with NULs to 64 bytes: the label's length must not move what the
# linker places after it in .rodata (string functions take other paths near
# a page's end: a label of 100 characters, against 1, moved
# bindings/py_keeps/boost_shared_ptr by 2 instructions per iteration). At
# least one NUL inside, so that every label is placed alike (a literal
# without one is merged with its copies elsewhere).
string(LENGTH "${commit}" n)
if(n GREATER 62)
  message(FATAL_ERROR "commit label '${commit}' is longer than 62 characters; "
                      "give PYMB_COMMIT_LABEL a shorter one")
endif()
math(EXPR n "63 - ${n}")
string(REPEAT "\\0" ${n} pad)
set(text "#define PYMB_COMMIT \"${commit}${pad}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
