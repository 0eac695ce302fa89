# deploycheck's two CMake functions, used in this repository and, installed, by
# find_package(DeployCheck):
#
#   deploycheck_add_environment(<name> FILE <yaml> [SANDBOX] [SELFTEST_ONLY])
#     (SANDBOX: its tests get the sandbox's run-time file; SELFTEST_ONLY: its CTest script is
#     written but not included in this build's tests — self-tests drive it)
#     builds deploycheck-<name> with the file validated (at configure time: a mistake stops
#     cmake with file:line:column) and compiled in, and registers each of its checks with
#     CTest, labelled <name>, <Suite>, pre|post, critical|high|medium|low and <name>:pre|post.
#
#   deploycheck_add_suite(<Name> SOURCES <files...> [PHASE pre|post|both]
#                         [SEVERITY critical|high|medium|low])
#     adds a user's own checks (plain TEST or TEST_F(deploycheck::Check, ...)) to every
#     environment's executable, with those default labels.
#
# Either may be called first: both only record, and the wiring happens once, at the end of
# the top-level CMakeLists.txt.
#
# Expects: DEPLOYCHECK_VALIDATOR (path of deploycheck-validate), DEPLOYCHECK_LIBRARY (the
# deploycheck library target) and DEPLOYCHECK_HEADERS (its compile-only interface target).

set(DEPLOYCHECK_RUN_ROOT ${CMAKE_BINARY_DIR}/deploycheck-runs CACHE INTERNAL "")
set(DEPLOYCHECK_SANDBOX_STATE_DIR ${CMAKE_BINARY_DIR}/deploycheck-runs/sandbox-services CACHE INTERNAL "")

function(_deploycheck_schedule_finalize)
  get_property(scheduled GLOBAL PROPERTY DEPLOYCHECK_FINALIZE_SCHEDULED)
  if(NOT scheduled)
    set_property(GLOBAL PROPERTY DEPLOYCHECK_FINALIZE_SCHEDULED TRUE)
    cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL _deploycheck_finalize)
  endif()
endfunction()

function(deploycheck_add_environment name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "SANDBOX;SELFTEST_ONLY" "FILE" "")
  if(NOT arg_FILE)
    message(FATAL_ERROR "deploycheck_add_environment(${name}): FILE <environment.yaml> is required")
  endif()
  get_filename_component(file "${arg_FILE}" ABSOLUTE)
  if(NOT EXISTS "${file}")
    message(FATAL_ERROR "deploycheck_add_environment(${name}): ${file} does not exist")
  endif()
  if(TARGET deploycheck-${name})
    message(FATAL_ERROR "deploycheck_add_environment(${name}): an environment named '${name}' "
                        "is already registered (from another file?)")
  endif()

  if(NOT EXISTS "${DEPLOYCHECK_VALIDATOR}")
    message(FATAL_ERROR "deploycheck: the environment validator '${DEPLOYCHECK_VALIDATOR}' does not "
                        "exist (a broken installation?)")
  endif()
  # Validate now: the validator's stderr passes straight through, so its
  # "file:line:column: error: ..." is what the user sees.
  execute_process(COMMAND ${DEPLOYCHECK_VALIDATOR} --file ${file} --name ${name}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "deploycheck: environment '${name}' is invalid (see the error above; "
                        "validator status: ${rc})")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})

  set(gen ${CMAKE_CURRENT_BINARY_DIR}/deploycheck-${name}-environment.cpp)
  add_custom_command(
    OUTPUT ${gen}
    COMMAND ${DEPLOYCHECK_VALIDATOR} --file ${file} --name ${name} --emit ${gen}
    DEPENDS ${file} ${DEPLOYCHECK_VALIDATOR}
    COMMENT "Validating and compiling in environment ${name}"
    VERBATIM)
  add_executable(deploycheck-${name} ${gen})
  target_link_libraries(deploycheck-${name} PRIVATE "$<LINK_LIBRARY:WHOLE_ARCHIVE,${DEPLOYCHECK_LIBRARY}>")

  set_property(GLOBAL APPEND PROPERTY DEPLOYCHECK_ENVIRONMENTS ${name})
  set_property(GLOBAL PROPERTY DEPLOYCHECK_ENV_${name}_SANDBOX ${arg_SANDBOX})
  set_property(GLOBAL PROPERTY DEPLOYCHECK_ENV_${name}_SELFTEST_ONLY ${arg_SELFTEST_ONLY})
  set_property(GLOBAL PROPERTY DEPLOYCHECK_ENV_${name}_DIR ${CMAKE_CURRENT_BINARY_DIR})

  # Registration: after each build the executable writes a CTest script describing its tests;
  # ctest includes it. (gtest_discover_tests cannot give one test several labels in CMake 3.25.)
  set(run_dir ${DEPLOYCHECK_RUN_ROOT}/${name})
  set(script ${run_dir}/ctest-tests.cmake)
  set(args
    --deploycheck-ctest-script=${script}
    --deploycheck-fixtures-file=${run_dir}/fixtures.tsv
    --deploycheck-exe=$<TARGET_FILE:deploycheck-${name}>
    --deploycheck-run-dir=${run_dir}
    --deploycheck-xml-dir=${DEPLOYCHECK_RUN_ROOT}/xml
    "--deploycheck-suites-file=${CMAKE_BINARY_DIR}/deploycheck-suites.txt")
  if(arg_SANDBOX)
    list(APPEND args --deploycheck-runtime-env=${DEPLOYCHECK_SANDBOX_STATE_DIR}/sandbox.env)
  endif()
  add_custom_command(
    OUTPUT ${script}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${DEPLOYCHECK_RUN_ROOT}/xml
    COMMAND deploycheck-${name} ${args}
    DEPENDS deploycheck-${name} ${CMAKE_BINARY_DIR}/deploycheck-suites.txt
    COMMENT "Registering the checks of environment ${name} with CTest"
    VERBATIM)
  add_custom_target(deploycheck-${name}-tests ALL DEPENDS ${script})
  _deploycheck_schedule_finalize()
  if(arg_SELFTEST_ONLY)
    # Its checks run only inside self-tests (which may include the script themselves), never
    # as tests of this build.
    return()
  endif()

  set(include_file ${CMAKE_CURRENT_BINARY_DIR}/deploycheck-${name}-include.cmake)
  file(WRITE ${include_file}
    "if(EXISTS \"${script}\")\n"
    "  include(\"${script}\")\n"
    "else()\n"
    "  add_test([=[${name}:NOT_BUILT]=] deploycheck-${name}-was-not-built)\n"
    "  set_tests_properties([=[${name}:NOT_BUILT]=] PROPERTIES LABELS \"${name};Build;pre;post;critical;${name}:pre;${name}:post\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${include_file})
endfunction()

function(deploycheck_add_suite name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "PHASE;SEVERITY" "SOURCES")
  if(NOT name MATCHES "^[A-Za-z][A-Za-z0-9_]*$")
    message(FATAL_ERROR "deploycheck_add_suite(${name}): a suite name is letters, digits and _ "
                        "(it is the gtest suite name and a CTest label)")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "deploycheck_add_suite(${name}): SOURCES is required")
  endif()
  if(NOT arg_PHASE)
    set(arg_PHASE both)
  endif()
  if(NOT arg_SEVERITY)
    set(arg_SEVERITY medium)
  endif()
  if(NOT arg_PHASE MATCHES "^(pre|post|both)$")
    message(FATAL_ERROR "deploycheck_add_suite(${name}): PHASE must be pre, post or both, not '${arg_PHASE}'")
  endif()
  if(NOT arg_SEVERITY MATCHES "^(critical|high|medium|low)$")
    message(FATAL_ERROR "deploycheck_add_suite(${name}): SEVERITY must be critical, high, medium or low, not '${arg_SEVERITY}'")
  endif()
  # Compiled once, linked whole into every environment (an OBJECT library's objects are never
  # dropped by the linker, unlike a static library's unreferenced TESTs).
  add_library(deploycheck_suite_${name} OBJECT ${arg_SOURCES})
  # Headers and their dependencies only: the library itself is linked whole into each
  # environment once (linking it here too would define everything twice).
  target_link_libraries(deploycheck_suite_${name} PUBLIC ${DEPLOYCHECK_HEADERS})
  set_property(GLOBAL APPEND PROPERTY DEPLOYCHECK_SUITES "${name}:${arg_PHASE}:${arg_SEVERITY}")
  _deploycheck_schedule_finalize()
endfunction()

function(_deploycheck_finalize)
  get_property(envs GLOBAL PROPERTY DEPLOYCHECK_ENVIRONMENTS)
  get_property(suites GLOBAL PROPERTY DEPLOYCHECK_SUITES)
  set(content "")
  foreach(suite IN LISTS suites)
    string(APPEND content "${suite}\n")
    string(REGEX REPLACE ":.*" "" suite_name "${suite}")
    foreach(env IN LISTS envs)
      target_link_libraries(deploycheck-${env} PRIVATE deploycheck_suite_${suite_name})
    endforeach()
  endforeach()
  # Rewritten only when it changes, so the registration step reruns only when it must.
  file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/deploycheck-suites.txt CONTENT "${content}")
endfunction()
