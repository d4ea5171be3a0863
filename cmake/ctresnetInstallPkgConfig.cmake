# Runs inside `cmake --install` (see ctresnetInstall.cmake): writes ctresnet.pc for the prefix
# being installed to and installs it. DESTDIR is honoured by file(INSTALL), and the prefix written
# into the file is the one without DESTDIR, where the package will finally live.
set(CTRESNET_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
set(CTRESNET_PC_VERSION "${ctresnet_pc_version}")
if(IS_ABSOLUTE "${ctresnet_pc_includedir}")
  set(CTRESNET_PC_INCLUDEDIR "${ctresnet_pc_includedir}")
else()
  set(CTRESNET_PC_INCLUDEDIR "\${prefix}/${ctresnet_pc_includedir}")
endif()
if(NOT IS_ABSOLUTE "${ctresnet_pc_destination}")
  set(ctresnet_pc_destination "${CMAKE_INSTALL_PREFIX}/${ctresnet_pc_destination}")
endif()
configure_file("${ctresnet_pc_template}" "${ctresnet_pc_staging}" @ONLY)
file(INSTALL DESTINATION "${ctresnet_pc_destination}" TYPE FILE FILES "${ctresnet_pc_staging}")
