# brine_doc_snippets(<markdown file> <output directory> <sources variable> <programs variable>)
#
# Extracts the ```cpp blocks of one Markdown file into C++ source files, by the rule that
# docs/guide.md states for writers ("Examples in the documentation are compiled"):
#
#   - an unmarked ```cpp block is a whole source file, compiled on its own as written; when
#     it defines `int main()` it is a program, renamed so that one driver can run it;
#   - a block right after the line `<!-- snippet: fragment -->` is a list of statements,
#     compiled as the body of a function appended to the file of the previous whole block of
#     the same Markdown file (so it may use that block's names), never run;
#   - a block right after `<!-- snippet: skip -->` is not compiled.
#
# A marker may carry a reason after its kind: `<!-- snippet: skip (a member function) -->`.
#
# Every generated file starts with #line, so a compiler error names the Markdown file and
# line. Sets <sources variable> to the generated files and <programs variable> to the
# programs, each as "<relative markdown path>:<line>|<function name>".
#
# Only ```cpp (or ```c++) fences at the start of a line count; an indented one is refused,
# as is a marker that no such block follows, so that no example is left out unnoticed.

function(brine_doc_snippets markdown out_dir sources_var programs_var)
  file(RELATIVE_PATH rel "${PROJECT_SOURCE_DIR}" "${markdown}")
  string(MAKE_C_IDENTIFIER "${rel}" id)
  file(READ "${markdown}" rest)
  if(NOT rest MATCHES "\n$")
    string(APPEND rest "\n")
  endif()

  set(sources)
  set(programs)
  set(line_no 0)
  set(in_block FALSE)
  set(marker "")
  set(marker_line 0)
  set(current "")   # variable name of the file the last whole block went to
  set(defined_classes)

  while(NOT rest STREQUAL "")
    string(FIND "${rest}" "\n" nl)
    string(SUBSTRING "${rest}" 0 ${nl} line)
    math(EXPR after "${nl} + 1")
    string(SUBSTRING "${rest}" ${after} -1 rest)
    math(EXPR line_no "${line_no} + 1")

    if(in_block)
      if(line MATCHES "^```[ \t]*$")
        set(in_block FALSE)
        _brine_doc_emit()
      else()
        string(APPEND body "${line}\n")
      endif()
      continue()
    endif()

    if(line MATCHES "^```(cpp|c\\+\\+)([ \t]|$)")
      set(in_block TRUE)
      set(body "")
      math(EXPR start "${line_no} + 1")
      if(marker STREQUAL "")
        set(kind whole)
      else()
        set(kind ${marker})
      endif()
      set(marker "")
      continue()
    endif()
    if(line MATCHES "^[ \t]+```(cpp|c\\+\\+)")
      message(FATAL_ERROR "${rel}:${line_no}: an indented ```cpp block is not compiled by "
                          "tests/docs; start the fence at the beginning of the line")
    endif()
    if(NOT marker STREQUAL "")
      message(FATAL_ERROR "${rel}:${marker_line}: '<!-- snippet: ${marker} -->' must be the "
                          "line right before a ```cpp fence")
    endif()
    if(line MATCHES "^<!-- snippet: ([a-z]+)( [^\n]*)? -->[ \t]*$")
      set(marker ${CMAKE_MATCH_1})
      set(marker_line ${line_no})
      if(NOT marker MATCHES "^(fragment|skip)$")
        message(FATAL_ERROR "${rel}:${line_no}: unknown snippet marker '${marker}' "
                            "(known: fragment, skip)")
      endif()
    endif()
  endwhile()
  if(in_block)
    message(FATAL_ERROR "${rel}:${start}: ```cpp block without its closing fence")
  endif()
  if(NOT marker STREQUAL "")
    message(FATAL_ERROR "${rel}:${marker_line}: '<!-- snippet: ${marker} -->' is not followed "
                        "by a ```cpp block")
  endif()

  # Written only when changed, so that re-running CMake does not rebuild every snippet.
  foreach(file IN LISTS sources)
    string(MAKE_C_IDENTIFIER "${file}" var)
    set(old "")
    if(EXISTS "${file}")
      file(READ "${file}" old)
    endif()
    if(NOT old STREQUAL "${content_${var}}")
      file(WRITE "${file}" "${content_${var}}")
    endif()
  endforeach()
  set(${sources_var} ${sources} PARENT_SCOPE)
  set(${programs_var} ${programs} PARENT_SCOPE)
endfunction()

# Emits the block that ends on the current line; a macro, so that it updates the function's
# variables (sources, programs, current, defined_classes, content_*).
macro(_brine_doc_emit)
  set(where "${rel}:${start}")
  set(line_directive "#line ${start} \"${markdown}\"\n")
  if(kind STREQUAL "skip")
    # Not compiled: nothing to do.
  elseif(kind STREQUAL "whole")
    set(file "${out_dir}/${id}_${start}.cpp")
    string(MAKE_C_IDENTIFIER "${file}" var)
    list(APPEND sources "${file}")
    set(current ${var})
    set(text "${body}")
    # Classes defined at namespace scope by two blocks of one file would be two definitions of
    # one class in one program, which no tool reports: refuse them here.
    string(REGEX MATCHALL "(^|\n)(class|struct) +[A-Za-z_][A-Za-z0-9_]*[^;\n]*[:{]" heads
           "${text}")
    set(names)
    foreach(head IN LISTS heads)
      string(REGEX REPLACE "^\n?(class|struct) +([A-Za-z_][A-Za-z0-9_]*).*" "\\2" name "${head}")
      list(APPEND names ${name})
    endforeach()
    # One block may define a name twice in two namespaces; the compiler checks that one.
    list(REMOVE_DUPLICATES names)
    foreach(name IN LISTS names)
      if(DEFINED first_${name})
        message(FATAL_ERROR "${where}: defines '${name}' again (first at ${first_${name}}): the "
                            "blocks of one Markdown file are linked into one program, so each "
                            "names its classes differently")
      endif()
      set(first_${name} "${where}")
    endforeach()
    if(text MATCHES "(^|[^A-Za-z0-9_])main *\\(")
      if(NOT text MATCHES "(^|\n)int main\\(\\) {")
        message(FATAL_ERROR "${where}: a program's entry point must be written `int main() {` "
                            "at the start of a line, to be run by tests/docs")
      endif()
      set(function "brine_doc_${id}_${start}")
      string(REGEX REPLACE "(^|\n)int main\\(\\) {" "\\1int ${function}() {" text "${text}")
      list(APPEND programs "${where}|${function}")
    endif()
    set(content_${var}
        "// Generated by tests/docs/snippets.cmake from ${where}: edit the Markdown instead.\n")
    string(APPEND content_${var} "${line_directive}${text}")
  else()  # fragment
    if(body MATCHES "(^|[^A-Za-z0-9_])main *\\(")
      message(FATAL_ERROR "${where}: a fragment cannot hold main(); remove the marker to make "
                          "the block a whole program")
    endif()
    if(current STREQUAL "")
      # No whole block before it in this file: the fragment has only brine's header.
      set(file "${out_dir}/${id}_fragments.cpp")
      string(MAKE_C_IDENTIFIER "${file}" var)
      list(APPEND sources "${file}")
      set(current ${var})
      set(content_${var} "// Generated by tests/docs/snippets.cmake from the fragments of ${rel}.\n")
      string(APPEND content_${var} "#include <brine/brine.hpp>\n")
    endif()
    string(APPEND content_${current}
           "\n[[maybe_unused]] static void brine_doc_fragment_${start}() {\n"
           "${line_directive}${body}}\n")
  endif()
endmacro()
