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
set(text "#define PYMB_COMMIT \"${commit}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
