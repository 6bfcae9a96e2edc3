# One-line helpers that every module uses.
include(GoogleTest)

# cf_module(NAME DEPS a b ...): a static library `cf_NAME` from every *.cc in the current
# directory, and a test program `NAME_test` from every *_test.cc beside them, registered with
# CTest. Files are globbed, so adding a source or a test needs no CMake edit.
function(cf_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;TEST_DEPS" ${ARGN})
  file(GLOB all_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  file(GLOB test_sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  set(lib_sources ${all_sources})
  if(test_sources)
    list(REMOVE_ITEM lib_sources ${test_sources})
  endif()
  add_library(cf_${name} STATIC ${lib_sources})
  target_include_directories(cf_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(cf_${name} PUBLIC ${ARG_DEPS})
  if(test_sources)
    add_executable(${name}_test ${test_sources})
    set_target_properties(${name}_test PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
    target_link_libraries(${name}_test PRIVATE cf_${name} ${ARG_TEST_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
    target_compile_definitions(${name}_test PRIVATE CF_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    gtest_discover_tests(${name}_test WORKING_DIRECTORY ${CMAKE_SOURCE_DIR} DISCOVERY_TIMEOUT 60
                         PROPERTIES ENVIRONMENT "CF_BIN_DIR=${CMAKE_BINARY_DIR}/bin")
  endif()
endfunction()
