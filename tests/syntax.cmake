# Syntax checks: the headers are also valid C++20 and warning-free under clang++, checked without
# code generation (-fsyntax-only still instantiates every template the tests use). Each area's
# CMakeLists.txt checks its own sources:
#
#   ctresnet_add_syntax_tests(SOURCES file... [FLAGS flag...])
#
# registers syntax.<compiler>_cxx<standard>.<file> for g++ and clang++, C++17 and C++20, each source
# (relative to the calling CMakeLists.txt) checked with the extra compiler flags that follow FLAGS.
find_program(CTRESNET_CLANGXX NAMES clang++ clang++-14)
function(ctresnet_add_syntax_tests)
  if(CTRESNET_SANITIZE OR CMAKE_CROSSCOMPILING)
    return()  # the main (host) build checks the headers
  endif()
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "SOURCES;FLAGS")
  set(compilers "gxx;${CMAKE_CXX_COMPILER}")
  if(CTRESNET_CLANGXX)
    list(APPEND compilers "clangxx;${CTRESNET_CLANGXX}")
  endif()
  while(compilers)
    list(POP_FRONT compilers label compiler)
    foreach(standard 17 20)
      ctresnet_syntax_check_command(check "${compiler}" ${standard})
      foreach(source IN LISTS arg_SOURCES)
        get_filename_component(stem "${source}" NAME_WE)
        get_filename_component(path "${source}" ABSOLUTE)  # from the calling directory
        add_test(NAME syntax.${label}_cxx${standard}.${stem} COMMAND ${check} ${arg_FLAGS} "${path}")
        set_tests_properties(syntax.${label}_cxx${standard}.${stem} PROPERTIES LABELS syntax)
      endforeach()
    endforeach()
  endwhile()
endfunction()
