# BrineLibzip.cmake: the imported target brine::libzip, for libzip (the .npz reader and
# writer). Found by its header and library rather than its CMake package, whose config pulls
# in its own dependencies' targets. Used by brine's build, and by the installed
# brineConfig.cmake when libbrine is static (a shared libbrine carries the dependency itself).
if(NOT TARGET brine::libzip)
  find_path(BRINE_LIBZIP_INCLUDE_DIR zip.h)
  find_library(BRINE_LIBZIP_LIBRARY zip)
  if(BRINE_LIBZIP_INCLUDE_DIR AND BRINE_LIBZIP_LIBRARY)
    add_library(brine::libzip UNKNOWN IMPORTED)
    set_target_properties(brine::libzip PROPERTIES
      IMPORTED_LOCATION "${BRINE_LIBZIP_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${BRINE_LIBZIP_INCLUDE_DIR}")
  endif()
endif()
