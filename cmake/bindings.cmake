# bindings.cmake - which binding layers the bindings family can use for one
# interpreter (workloads/bindings.h). Boost.Python is a compiled library, one
# per Python version (Debian's libboost-python-dev: libboost_python311 for
# python3.11); pybind11 is header-only and supports the Python versions its
# release names. A layer it cannot use is left out with one line saying why.

find_path(PYMB_BOOST_INCLUDE boost/python.hpp)
find_path(PYMB_PYBIND11_INCLUDE pybind11/pybind11.h)
if(PYMB_BOOST_INCLUDE AND EXISTS ${PYMB_BOOST_INCLUDE}/boost/version.hpp)
  file(STRINGS ${PYMB_BOOST_INCLUDE}/boost/version.hpp _v REGEX "define BOOST_VERSION [0-9]+")
  string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _v "${_v}")
  math(EXPR _maj "${_v} / 100000")
  math(EXPR _min "${_v} / 100 % 1000")
  math(EXPR _pat "${_v} % 100")
  set(PYMB_BOOST_VERSION "${_maj}.${_min}.${_pat}")
endif()
if(PYMB_PYBIND11_INCLUDE)
  file(STRINGS ${PYMB_PYBIND11_INCLUDE}/pybind11/detail/common.h _v
       REGEX "define PYBIND11_VERSION_(MAJOR|MINOR|PATCH) ")
  string(REGEX REPLACE ".*MAJOR ([0-9]+).*MINOR ([0-9]+).*PATCH ([0-9a-z.]+).*" "\\1.\\2.\\3"
         PYMB_PYBIND11_VERSION "${_v}")
endif()

# The newest CPython each pybind11 release supports (its changelog: 2.10
# added 3.11, 2.11 added 3.12, 2.13 added 3.13, 3.0 added 3.14).
function(pymb_pybind11_newest_python out)
  set(v ${PYMB_PYBIND11_VERSION})
  if(v VERSION_GREATER_EQUAL 3.0)
    set(${out} 3.14 PARENT_SCOPE)
  elseif(v VERSION_GREATER_EQUAL 2.13)
    set(${out} 3.13 PARENT_SCOPE)
  elseif(v VERSION_GREATER_EQUAL 2.11)
    set(${out} 3.12 PARENT_SCOPE)
  elseif(v VERSION_GREATER_EQUAL 2.10)
    set(${out} 3.11 PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# One layer's outcome, inside pymb_bindings (a macro: it appends to that
# function's defines, sources, includes and libs). `why` empty: the layer is
# built (PYMB_HAVE_<name>, PYMB_<name>_LIBRARY); otherwise PYMB_<name>_SKIP
# and one line at configure time. `lib` may be empty (header-only).
macro(pymb_binding_layer name library version source include lib)
  if(why STREQUAL "")
    string(APPEND defines "#define PYMB_HAVE_${name} 1\n"
           "#define PYMB_${name}_LIBRARY \"${library} ${version}\"\n")
    list(APPEND sources ${source})
    list(APPEND includes ${include})
    list(APPEND libs ${lib})
  else()
    string(REPLACE ";" "" why "${why}")
    string(APPEND defines "#define PYMB_${name}_SKIP \"${why}\"\n")
    message(STATUS "pymembench: bindings: ${library} skipped on ${PY_tag}: ${why}")
  endif()
endmacro()

# For the interpreter whose facts are in PY_* (pymb_read_facts): sets
# PYMB_BINDINGS_DEFINES (lines for build_info.h), PYMB_BINDINGS_SOURCES,
# PYMB_BINDINGS_INCLUDES and PYMB_BINDINGS_LIBS in the caller's scope, and
# says which layers are out. The counting operator new
# (workloads/bind_newcount.cc) comes with a C++ layer, never without one.
function(pymb_bindings)
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" mm "${PY_version}")
  string(REPLACE "." "" nodot "${mm}")
  set(defines "")
  set(sources "")
  set(includes "")
  set(libs "")
  set(free_threaded 0)
  if(PY_tag MATCHES "^cpython-[0-9.]+t")
    set(free_threaded 1)
  endif()

  # Boost.Python
  set(why "")
  find_library(PYMB_BOOST_PYTHON_${nodot} boost_python${nodot})
  if(NOT PYMB_BOOST_INCLUDE)
    set(why "boost/python.hpp not found (apt-get install libboost-python-dev)")
  elseif(NOT PYMB_BOOST_PYTHON_${nodot})
    set(why "libboost_python${nodot} not found: Boost.Python is compiled per Python version, "
            "and Debian's libboost-python-dev has it for python3.11 only")
  elseif(PY_debug)
    set(why "libboost_python${nodot} is built for release interpreters, and this is a debug "
            "build (Py_DEBUG), whose reference totals it would not keep")
  elseif(free_threaded)
    set(why "Boost.Python does not support free-threaded builds")
  elseif(PYMB_SANITIZE)
    set(why "an AddressSanitizer build: its instances crash (SIGSEGV) in libboost_python's "
            "instance deallocation under ASan, not under valgrind in the normal build, "
            "which make test runs")
  endif()
  pymb_binding_layer(BOOST_PYTHON "Boost.Python" "${PYMB_BOOST_VERSION}"
                     workloads/bind_boost.cc "${PYMB_BOOST_INCLUDE}"
                     "${PYMB_BOOST_PYTHON_${nodot}}")

  # Boost.Python's numpy layer (libboost-numpy-dev), on top of Boost.Python;
  # whether numpy itself can be imported is found at run time.
  if(why STREQUAL "")
    find_library(PYMB_BOOST_NUMPY_${nodot} boost_numpy${nodot})
    if(NOT EXISTS ${PYMB_BOOST_INCLUDE}/boost/python/numpy.hpp)
      set(why "boost/python/numpy.hpp not found (apt-get install libboost-numpy-dev)")
    elseif(NOT PYMB_BOOST_NUMPY_${nodot})
      set(why "libboost_numpy${nodot} not found (apt-get install libboost-numpy-dev)")
    endif()
    pymb_binding_layer(BOOST_NUMPY "Boost.Python numpy" "${PYMB_BOOST_VERSION}" ""
                       "" "${PYMB_BOOST_NUMPY_${nodot}}")
  endif()

  # pybind11
  set(why "")
  pymb_pybind11_newest_python(newest)
  if(NOT PYMB_PYBIND11_INCLUDE)
    set(why "pybind11/pybind11.h not found (apt-get install pybind11-dev)")
  elseif(newest STREQUAL "")
    set(why "pybind11 ${PYMB_PYBIND11_VERSION} is older than 2.10")
  elseif(mm VERSION_GREATER newest)
    set(why "pybind11 ${PYMB_PYBIND11_VERSION} supports CPython up to ${newest}, "
            "not ${mm}")
  elseif(free_threaded AND PYMB_PYBIND11_VERSION VERSION_LESS 2.13)
    set(why "pybind11 ${PYMB_PYBIND11_VERSION} predates free-threaded support (2.13)")
  endif()
  pymb_binding_layer(PYBIND11 "pybind11" "${PYMB_PYBIND11_VERSION}"
                     workloads/bind_pybind11.cc "${PYMB_PYBIND11_INCLUDE}" "")

  if(sources)
    list(APPEND sources workloads/bind_newcount.cc)
  endif()
  set(PYMB_BINDINGS_DEFINES "${defines}" PARENT_SCOPE)
  set(PYMB_BINDINGS_INCLUDES "${includes}" PARENT_SCOPE)
  set(PYMB_BINDINGS_SOURCES "${sources}" PARENT_SCOPE)
  set(PYMB_BINDINGS_LIBS "${libs}" PARENT_SCOPE)
endfunction()
