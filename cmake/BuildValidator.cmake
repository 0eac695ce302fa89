# Configure-time build of deploycheck-validate (about 3 s the first time, cached after), so
# that deploycheck_add_environment() can validate each environment file while `cmake` runs.
set(_dir ${CMAKE_BINARY_DIR}/_deploycheck_validator)
set(_launcher "")
if(CMAKE_CXX_COMPILER_LAUNCHER)
  set(_launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER})
endif()
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${PROJECT_SOURCE_DIR}/cmake/validator -B ${_dir} -G ${CMAKE_GENERATOR}
          -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
          -DDEPLOYCHECK_SOURCE_DIR=${PROJECT_SOURCE_DIR} ${_launcher}
  OUTPUT_QUIET RESULT_VARIABLE _rc)
if(_rc EQUAL 0)
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${_dir} OUTPUT_VARIABLE _out
                  ERROR_VARIABLE _out RESULT_VARIABLE _rc)
endif()
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "deploycheck: building the environment validator failed:\n${_out}")
endif()
set(DEPLOYCHECK_VALIDATOR ${_dir}/deploycheck-validate CACHE INTERNAL "")
# Rebuild it when its sources change.
file(GLOB _validator_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/fixtures/*)
foreach(_f tools/validate/main.cpp cmake/validator/CMakeLists.txt)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${_f})
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_validator_sources})
