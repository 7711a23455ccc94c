# BrineXxhash.cmake: the imported target brine::xxhash, for libxxhash, which ships no CMake
# package of its own (Debian 12). Used by brine's build, and by the installed brineConfig.cmake
# when libbrine is static (a shared libbrine carries the dependency itself).
if(NOT TARGET brine::xxhash)
  find_path(BRINE_XXHASH_INCLUDE_DIR xxhash.h)
  find_library(BRINE_XXHASH_LIBRARY xxhash)
  if(BRINE_XXHASH_INCLUDE_DIR AND BRINE_XXHASH_LIBRARY)
    add_library(brine::xxhash UNKNOWN IMPORTED)
    set_target_properties(brine::xxhash PROPERTIES
      IMPORTED_LOCATION "${BRINE_XXHASH_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${BRINE_XXHASH_INCLUDE_DIR}")
  endif()
endif()
