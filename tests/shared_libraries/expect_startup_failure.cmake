# Runs a program that must fail before main() and checks how it failed.
#   cmake -DPROGRAM=<exe> -DEXPECT=<regex> [-DEXPECT2=<regex>] -P expect_startup_failure.cmake
# ctest's WILL_FAIL does not cover a program killed by a signal (std::terminate aborts), so
# the exit status and the message are checked here.
cmake_minimum_required(VERSION 3.21)

execute_process(COMMAND "${PROGRAM}"
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 60)
set(output "${out}${err}")
message(STATUS "exit status: ${result}\noutput:\n${output}")

if(result EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with status 0; it must fail at start-up")
endif()
if(output MATCHES "main\\(\\) reached")
  message(FATAL_ERROR "${PROGRAM} reached main(); the failure must happen at start-up")
endif()
foreach(pattern IN ITEMS "${EXPECT}" "${EXPECT2}")
  if(pattern AND NOT output MATCHES "${pattern}")
    message(FATAL_ERROR "the output of ${PROGRAM} does not match '${pattern}'")
  endif()
endforeach()
