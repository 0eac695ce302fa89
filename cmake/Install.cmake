# `cmake --install` makes a package a separate project can use:
#   find_package(DeployCheck REQUIRED)
#   deploycheck_add_environment(staging FILE staging.yaml)
#   deploycheck_add_suite(MyChecks SOURCES my_checks.cpp)
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

install(TARGETS deploycheck deploycheck_headers EXPORT DeployCheckTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY fixtures probes matchers runner DESTINATION include/deploycheck
        FILES_MATCHING PATTERN "*.hpp")
install(PROGRAMS ${DEPLOYCHECK_VALIDATOR} DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS deploycheck-results deploycheck-sandboxctl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT DeployCheckTargets NAMESPACE DeployCheck:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/DeployCheck)
configure_package_config_file(cmake/DeployCheckConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/DeployCheckConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/DeployCheck)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/DeployCheckConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/DeployCheckConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/DeployCheckConfigVersion.cmake
              cmake/DeployCheck.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/DeployCheck)
