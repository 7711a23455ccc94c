# Checks that a shared libbrine exports only brine's API (nm -D --defined-only):
#   cmake -DNM=<nm> -DLIBRARY=<libbrine.so> -P exported_symbols.cmake
# Allowed: names in namespace brine, with their type_info, vtables and thunks. Refused:
# anything else (the standard library's or nlohmann's template instantiations, which
# libbrine compiles for itself), and brine::detail functions except those the public headers'
# inline code calls.
cmake_minimum_required(VERSION 3.21)

foreach(var NM LIBRARY)
  if(NOT ${var})
    message(FATAL_ERROR "exported_symbols.cmake: ${var} is not set")
  endif()
endforeach()

execute_process(COMMAND "${NM}" -D --defined-only -C "${LIBRARY}"
  OUTPUT_VARIABLE listing ERROR_VARIABLE errors RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${NM} -D --defined-only -C ${LIBRARY} failed (${result}): ${errors}")
endif()

# brine::detail functions that public headers call from inline code (BRINE_ASSERT, the stable
# writer's field count, the context the codecs and load entry points add to an error in
# flight, the checkpoint manager's encoding check), and throw_io_error, throw_error's IoError
# half: exported on purpose.
set(detail_api "throw_error|throw_io_error|checkpoint_encoding_mismatch|assertion_failed|field_count_of|note_error_source|note_error_type|prepend_error_field|prepend_error_key|prepend_error_index")

string(REPLACE "\n" ";" lines "${listing}")
set(count 0)
set(problems)
foreach(line IN LISTS lines)
  # "<address> <kind> <demangled name>"; a semicolon in a name would split it, and none
  # appears in a C++ signature.
  if(NOT line MATCHES "^[0-9a-fA-F]+ [A-Za-z] (.*)$")
    continue()
  endif()
  set(name "${CMAKE_MATCH_1}")
  math(EXPR count "${count} + 1")
  if(name MATCHES "nlohmann")
    list(APPEND problems "nlohmann: ${name}")
  elseif(NOT name MATCHES "^(typeinfo for |typeinfo name for |vtable for |VTT for |non-virtual thunk to |virtual thunk to )?brine::")
    list(APPEND problems "not brine's: ${name}")
  elseif(name MATCHES "^brine::detail::" AND NOT name MATCHES "^brine::detail::(${detail_api})\\(")
    list(APPEND problems "brine internal: ${name}")
  endif()
endforeach()

if(count EQUAL 0)
  message(FATAL_ERROR "${LIBRARY} exports no symbol: is it a shared library?")
endif()
list(LENGTH problems bad)
if(bad GREATER 0)
  list(SUBLIST problems 0 40 shown)
  list(JOIN shown "\n  " text)
  message(FATAL_ERROR "${LIBRARY} exports ${bad} of its ${count} symbols that are not brine's API "
    "(BRINE_API, cmake/libbrine.map):\n  ${text}")
endif()
message(STATUS "${LIBRARY}: ${count} exported symbols, all brine's API")
