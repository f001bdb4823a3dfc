# `make install PREFIX=...` (cmake --install build --prefix ...): osprey as a
# system library, so Larod applications build unchanged with
# `pkg-config --cflags --libs liblarod`. See docs/service.md.
include(GNUInstallDirs)

# liblarod.so.3 (versioned, its version script applied at link time) and the
# headers an application includes.
install(TARGETS larod LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${CMAKE_SOURCE_DIR}/include/larod.h ${CMAKE_SOURCE_DIR}/include/larod-version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# The programs; osprey-client finds the liblarod installed beside it.
set_target_properties(osprey-client PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
install(TARGETS ospreyd osprey osprey-client RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# liblarod.pc, relative to its own location so any prefix works.
file(RELATIVE_PATH LAROD_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
get_target_property(LAROD_API_VERSION larod VERSION)
configure_file(${CMAKE_SOURCE_DIR}/cmake/liblarod.pc.in ${CMAKE_BINARY_DIR}/pkgconfig/liblarod.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/pkgconfig/liblarod.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# A systemd user unit naming the installed ospreyd (the prefix is known only
# at install time, so the unit is written then).
install(CODE "
  set(unit_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/systemd/user\")
  set(OSPREYD_PATH \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/ospreyd\")
  message(STATUS \"Installing: \${unit_dir}/ospreyd.service\")
  configure_file(\"${CMAKE_SOURCE_DIR}/cmake/ospreyd.service.in\" \"\${unit_dir}/ospreyd.service\" @ONLY)
")

# Installs into a temporary prefix and builds Larod programs through
# pkg-config with -Wall -Wextra -Werror (label "service").
add_test(NAME service_install
  COMMAND bash ${CMAKE_SOURCE_DIR}/tests/service/run_with_daemon.sh $<TARGET_FILE:ospreyd>
    bash ${CMAKE_SOURCE_DIR}/tests/service/install_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(service_install PROPERTIES LABELS service TIMEOUT 180)
