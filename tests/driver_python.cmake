# driver_python.cmake - the Python that runs the tests' drivers (python3 as
# found on PATH), without pyenv's shim in front of it. A shim start costs
# 0.3 CPU seconds (`pyenv exec` runs a few shell scripts), and make test
# starts a driver per test: 16 s of make test's wall time on this 2-core
# machine. Where python3 on PATH is such a stand-in, the drivers run the
# interpreter it stands for (its sys.executable), with that interpreter's
# folder first on their PATH, as `pyenv exec` puts it, so the scripts they
# run (#!/usr/bin/env python3) find the same interpreter without the shim.
# Where python3 is the interpreter itself nothing changes. Python3_EXECUTABLE
# given to cmake is used as it is.

# Before find_package(Python3): sets Python3_EXECUTABLE, which FindPython
# takes as the interpreter to use, and PYMB_DRIVER_PATH (the folder to put
# first on the tests' PATH, or empty).
macro(pymb_driver_python)
  set(PYMB_DRIVER_PATH "")
  if(NOT DEFINED Python3_EXECUTABLE)
    find_program(PYMB_PATH_PYTHON3 python3)
    if(PYMB_PATH_PYTHON3)
      execute_process(COMMAND ${PYMB_PATH_PYTHON3} -c "import sys; print(sys.executable)"
                      OUTPUT_VARIABLE _pymb_exe OUTPUT_STRIP_TRAILING_WHITESPACE
                      RESULT_VARIABLE _pymb_rc ERROR_QUIET)
      get_filename_component(_pymb_real "${PYMB_PATH_PYTHON3}" REALPATH)
      if(_pymb_rc EQUAL 0 AND IS_ABSOLUTE "${_pymb_exe}" AND EXISTS "${_pymb_exe}")
        get_filename_component(_pymb_exe_real "${_pymb_exe}" REALPATH)
        if(NOT _pymb_exe_real STREQUAL _pymb_real)
          set(Python3_EXECUTABLE "${_pymb_exe}")
          get_filename_component(PYMB_DRIVER_PATH "${_pymb_exe}" DIRECTORY)
          message(STATUS "pymembench: tests run ${_pymb_exe} (python3 on PATH, "
                         "${PYMB_PATH_PYTHON3}, stands for it)")
        endif()
      endif()
    endif()
  endif()
endmacro()

# After every test is added: PYMB_DRIVER_PATH first on their PATH (CMake
# 3.22 and later; before, the scripts the drivers run go through the shim).
function(pymb_driver_path)
  if(PYMB_DRIVER_PATH STREQUAL "" OR CMAKE_VERSION VERSION_LESS 3.22)
    return()
  endif()
  get_property(tests DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTY TESTS)
  set_property(TEST ${tests} APPEND PROPERTY ENVIRONMENT_MODIFICATION
               "PATH=path_list_prepend:${PYMB_DRIVER_PATH}")
endfunction()
