# The IVR prompts (mixer/prompts/prompts.tsv: one `name<TAB>text` a line) spoken into
# ${CMAKE_BINARY_DIR}/prompts/<name>.wav by espeak-ng at build time, so no recording is checked in
# and nothing is downloaded. PromptLibrary (mixer/prompt_library.hpp) loads that folder through
# GStreamer; an operator may replace any file there with a recording of any rate and channel count.
# CHORUS_PROMPTS_DIR is that folder for a chorusd run from the build tree; an installed one uses
# share/chorus/prompts (packaging/packaging.cmake installs ${chorus_prompt_outputs} there).
#
# Included from the top-level CMakeLists.txt after chorus_mixer (and chorusd, when it exists).

set(CHORUS_PROMPTS_TSV ${CMAKE_CURRENT_LIST_DIR}/prompts.tsv)
set(CHORUS_PROMPTS_OUTPUT_DIR ${CMAKE_BINARY_DIR}/prompts)
# A prompt's text is one short sentence or two: the limit keeps a stray line from becoming a
# command line of arbitrary length.
set(CHORUS_PROMPT_MAX_TEXT 400)

set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CHORUS_PROMPTS_TSV})
target_compile_definitions(chorus_mixer PRIVATE CHORUS_PROMPTS_DIR="${CHORUS_PROMPTS_OUTPUT_DIR}")

find_program(ESPEAK_NG_EXECUTABLE espeak-ng)
if(NOT ESPEAK_NG_EXECUTABLE)
  message(WARNING "espeak-ng not found (scripts/install-deps.sh installs it): the IVR prompts are not "
                  "generated, and chorusd will refuse to start without recordings in ${CHORUS_PROMPTS_OUTPUT_DIR}")
endif()

# file(STRINGS) gives one list item per line; a ';' would split a line in two, which the pattern
# below then refuses.
file(STRINGS ${CHORUS_PROMPTS_TSV} chorus_prompt_lines ENCODING UTF-8)
set(chorus_prompt_outputs)
set(chorus_prompt_names)
foreach(line IN LISTS chorus_prompt_lines)
  if(line MATCHES "^[ \t]*$" OR line MATCHES "^#")
    continue()
  endif()
  if(NOT line MATCHES "^([a-z0-9_]+)\t([^\t]+)$")
    message(FATAL_ERROR "${CHORUS_PROMPTS_TSV}: expected `name<TAB>text` (name of [a-z0-9_]), got: ${line}")
  endif()
  set(name ${CMAKE_MATCH_1})
  set(text "${CMAKE_MATCH_2}")
  string(LENGTH "${text}" text_length)
  if(text_length GREATER CHORUS_PROMPT_MAX_TEXT)
    message(FATAL_ERROR "${CHORUS_PROMPTS_TSV}: the text of prompt ${name} is over ${CHORUS_PROMPT_MAX_TEXT} characters")
  endif()
  if(name IN_LIST chorus_prompt_names)
    message(FATAL_ERROR "${CHORUS_PROMPTS_TSV}: prompt ${name} is listed twice")
  endif()
  list(APPEND chorus_prompt_names ${name})
  if(ESPEAK_NG_EXECUTABLE)
    set(output ${CHORUS_PROMPTS_OUTPUT_DIR}/${name}.wav)
    # Ninja reruns the command when its text changes (the command line is part of the rule).
    add_custom_command(
      OUTPUT ${output}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CHORUS_PROMPTS_OUTPUT_DIR}
      COMMAND ${ESPEAK_NG_EXECUTABLE} -v en-us -s 150 -w ${output} "${text}"
      COMMENT "Speaking prompt ${name}"
      VERBATIM)
    list(APPEND chorus_prompt_outputs ${output})
  endif()
endforeach()

add_custom_target(chorus_prompts ALL DEPENDS ${chorus_prompt_outputs})
if(TARGET chorusd)
  add_dependencies(chorusd chorus_prompts)
endif()
