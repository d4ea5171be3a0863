# Install rules, included by the top-level CMakeLists.txt when CTRESNET_INSTALL is ON.
#
#   <prefix>/include/ctresnet/**                  the headers, and nothing else of the source tree
#   <prefix>/share/cmake/ctresnet/                ctresnetConfig.cmake, ctresnetConfigVersion.cmake,
#                                                 ctresnetTargets.cmake: find_package(ctresnet 0.1)
#   <prefix>/share/pkgconfig/ctresnet.pc          pkg-config --cflags ctresnet
#
# The library is headers only, so the package is architecture-independent and goes under
# share/ (as Eigen's own eigen3.pc and Eigen3Config.cmake do), where find_package and pkg-config
# both look.
include(CMakePackageConfigHelpers)

set(CTRESNET_INSTALL_CMAKEDIR "${CMAKE_INSTALL_DATADIR}/cmake/ctresnet"
    CACHE STRING "Where to install ctresnetConfig.cmake and its companions (relative to the prefix)")
set(CTRESNET_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_DATADIR}/pkgconfig"
    CACHE STRING "Where to install ctresnet.pc (relative to the prefix)")

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/ctresnet" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

# ctresnet::ctresnet: the headers, C++17 and Eigen3::Eigen (found again by ctresnetConfig.cmake).
# ctresnet::safetensors is not exported: ctresnetConfig.cmake defines it when the consumer has
# nlohmann_json, whether or not the machine that built this package had it.
install(TARGETS ctresnet EXPORT ctresnetTargets)
install(EXPORT ctresnetTargets NAMESPACE ctresnet:: DESTINATION "${CTRESNET_INSTALL_CMAKEDIR}")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/ctresnetConfig.cmake.in"
                              "${PROJECT_BINARY_DIR}/ctresnetConfig.cmake"
                              INSTALL_DESTINATION "${CTRESNET_INSTALL_CMAKEDIR}")
# While the version is 0.x, a minor release may change the API (semantic versioning), so 0.1.y
# satisfies a request for 0.1 but not for 0.2 (nor 0.2 one for 0.1). Make this SameMajorVersion at 1.0.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/ctresnetConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
install(FILES "${PROJECT_BINARY_DIR}/ctresnetConfig.cmake" "${PROJECT_BINARY_DIR}/ctresnetConfigVersion.cmake"
        DESTINATION "${CTRESNET_INSTALL_CMAKEDIR}")

# ctresnet.pc names the prefix it is installed to, and `cmake --install --prefix P` chooses that
# prefix after configuring; so the file is written at install time, for the prefix then in force.
install(CODE "
  set(ctresnet_pc_template \"${PROJECT_SOURCE_DIR}/cmake/ctresnet.pc.in\")
  set(ctresnet_pc_staging \"${PROJECT_BINARY_DIR}/CMakeFiles/ctresnet.pc\")
  set(ctresnet_pc_version \"${PROJECT_VERSION}\")
  set(ctresnet_pc_includedir \"${CMAKE_INSTALL_INCLUDEDIR}\")
  set(ctresnet_pc_destination \"${CTRESNET_INSTALL_PKGCONFIGDIR}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/ctresnetInstallPkgConfig.cmake\")
")
