# The sample's promise, run by ctest: a bundle trained in one folder, whose vocabulary's
# original is deleted, moved to another folder, loads there in the second program with its
# vocabulary path inside the new folder, and classifies as trained.
#   cmake -DTRAIN=... -DSERVE=... -DWORK=... -P bundle_sample_test.cmake
foreach(var TRAIN SERVE WORK)
  if(NOT ${var})
    message(FATAL_ERROR "bundle_sample_test.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/first" "${WORK}/elsewhere")

execute_process(COMMAND "${TRAIN}" --out "${WORK}/first/classifier" --work "${WORK}/scratch"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bundle_train failed (${rc}): ${out}${err}")
endif()
if(NOT out MATCHES "18/18 right")
  message(FATAL_ERROR "bundle_train did not fit its corpus: ${out}")
endif()

# The bundle must not depend on the scratch copy nor on its first place.
file(REMOVE_RECURSE "${WORK}/scratch")
file(RENAME "${WORK}/first/classifier" "${WORK}/elsewhere/moved")
file(REMOVE_RECURSE "${WORK}/first")

execute_process(COMMAND "${SERVE}" --bundle "${WORK}/elsewhere/moved" --dduf "${WORK}/classifier.dduf"
    "the goalkeeper saved the match" "stir the butter into the sauce"
    "investors sold bank shares"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bundle_serve failed (${rc}): ${out}${err}")
endif()
foreach(expected
    "value 0: object sample.TextClassifier v1"
    "value 1: object sample.TrainingSettings v1"
    "value 2: map"
    "vocabulary: ${WORK}/elsewhere/moved/"
    "sport\tthe goalkeeper saved the match"
    "cooking\tstir the butter into the sauce"
    "finance\tinvestors sold bank shares"
    "exported ${WORK}/classifier.dduf: 3 values, weights mapped: yes, 3/3 labels agree")
  string(FIND "${out}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "bundle_serve's output lacks '${expected}':\n${out}")
  endif()
endforeach()
