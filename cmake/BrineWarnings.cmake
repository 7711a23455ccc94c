# brine_target_warnings(target): the warning set every brine target is built with.
# PRIVATE so that consumers of brine::brine keep their own warning flags (fmt does the same).
function(brine_target_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
    if(BRINE_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()
