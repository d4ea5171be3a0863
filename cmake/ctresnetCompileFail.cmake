# Compile-fail tests, after Eigen's failtests: each source is compiled twice. Without
# CTRESNET_SHOULD_FAIL it must compile, which shows the file is otherwise valid; with it, the
# compiler must print the message named in the source's `expected-error {{"..."}}` line, which
# shows that our check fired and not some other error.
#
# The compiler is called directly with -fsyntax-only (templates are still instantiated, so every
# static_assert is evaluated): no object files, and safe to run in parallel.
# Sets `var` to a command that checks a source with `compiler` in C++`standard`, warnings as
# errors, with ctresnet's, Eigen's and nlohmann/json's headers on the include path.
function(ctresnet_syntax_check_command var compiler standard)
  set(command "${compiler}" -std=c++${standard} -fsyntax-only -Wall -Wextra -Wpedantic -Werror
      "-I${PROJECT_SOURCE_DIR}/include")
  get_target_property(eigen_includes Eigen3::Eigen INTERFACE_INCLUDE_DIRECTORIES)
  get_target_property(json_includes nlohmann_json::nlohmann_json INTERFACE_INCLUDE_DIRECTORIES)
  foreach(dir IN LISTS eigen_includes json_includes)
    if(NOT dir STREQUAL "/usr/include")  # already searched; naming it breaks #include_next in libstdc++
      list(APPEND command -isystem "${dir}")
    endif()
  endforeach()
  set(${var} "${command}" PARENT_SCOPE)
endfunction()

function(ctresnet_add_compile_fail_test source)
  get_filename_component(name "${source}" NAME_WE)
  file(STRINGS "${source}" line REGEX "expected-error {{\"" LIMIT_COUNT 1)
  if(NOT line)
    message(FATAL_ERROR "${source} has no expected-error {{\"...\"}} line")
  endif()
  string(REGEX REPLACE ".*{{\"(.*)\"}}.*" "\\1" expected "${line}")
  ctresnet_syntax_check_command(compile "${CMAKE_CXX_COMPILER}" 17)
  add_test(NAME compile_fail.${name}.ok COMMAND ${compile} "${source}")
  add_test(NAME compile_fail.${name}.fail COMMAND ${compile} -DCTRESNET_SHOULD_FAIL "${source}")
  set_tests_properties(compile_fail.${name}.fail PROPERTIES PASS_REGULAR_EXPRESSION "${expected}")
  set_tests_properties(compile_fail.${name}.ok compile_fail.${name}.fail PROPERTIES LABELS compile_fail)
endfunction()
