# Installs a brine build tree into a fresh prefix and checks what landed there.
#   cmake -DBUILD_DIR=<build> -DPREFIX=<prefix> [-DCONFIG=<config>] -DINCLUDEDIR=include
#         -DLIBDIR=lib -DSOURCE_INCLUDE_DIR=<source>/include -P install.cmake
cmake_minimum_required(VERSION 3.21)

foreach(var BUILD_DIR PREFIX INCLUDEDIR LIBDIR SOURCE_INCLUDE_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "install.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")

set(config_args)
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${config_args}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "cmake --install ${BUILD_DIR} --prefix ${PREFIX} failed: ${result}")
endif()

set(problems)

# The package files find_package(brine CONFIG) needs.
foreach(file brineConfig.cmake brineConfigVersion.cmake brineTargets.cmake)
  if(NOT EXISTS "${PREFIX}/${LIBDIR}/cmake/brine/${file}")
    list(APPEND problems "missing ${LIBDIR}/cmake/brine/${file}")
  endif()
endforeach()

# Exactly the public headers: every file of include/brine/, and nothing from src/ (private
# headers are never installed, LevelDB-style).
file(GLOB_RECURSE source_headers RELATIVE "${SOURCE_INCLUDE_DIR}" "${SOURCE_INCLUDE_DIR}/*")
file(GLOB_RECURSE installed_headers RELATIVE "${PREFIX}/${INCLUDEDIR}" "${PREFIX}/${INCLUDEDIR}/*")
foreach(header IN LISTS source_headers)
  if(NOT header IN_LIST installed_headers)
    list(APPEND problems "public header ${header} is not installed")
  endif()
endforeach()
foreach(header IN LISTS installed_headers)
  if(NOT header IN_LIST source_headers)
    list(APPEND problems "${INCLUDEDIR}/${header} is installed but is not a public header")
  endif()
endforeach()

# The library itself (shared or static, whatever BRINE_SHARED chose).
file(GLOB libraries "${PREFIX}/${LIBDIR}/libbrine*" "${PREFIX}/${LIBDIR}/brine*.lib")
if(NOT libraries)
  list(APPEND problems "no brine library in ${LIBDIR}")
endif()

if(problems)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "the installed brine package in ${PREFIX} is incomplete:\n  ${text}")
endif()
message(STATUS "brine installed in ${PREFIX}")
