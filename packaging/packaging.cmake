# Install layout, systemd unit and the Debian package (issue 14; DESIGN §7 "one binary with its share
# files found relative to itself"). Included, OPTIONAL, at the end of the top-level CMakeLists.txt,
# after every target and mixer/prompts/prompts.cmake.
#
#   cmake --install build --prefix P       P/bin/chorusd, P/share/chorus/{prompts,web}/,
#                                          P/share/doc/chorus/, P/lib/systemd/system/chorus.service
#   make package (cmake --build build --target package)
#                                          build/chorus_<version>_<arch>.deb, the same tree under /usr
#
# chorusd finds share/chorus next to itself (<bin>/../share/chorus, server/share_dir.hpp), so an
# install tree works wherever it is put; nothing installed names the build tree.

include(GNUInstallDirs)

# --- Version: project() + `git describe` when this is a git checkout (read at configure time).
# A source tree without .git (a tarball) shows the project version alone.
set(chorus_describe "")
if(EXISTS ${CMAKE_SOURCE_DIR}/.git)
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(COMMAND ${GIT_EXECUTABLE} describe --tags --always --dirty
                    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                    OUTPUT_VARIABLE chorus_describe OUTPUT_STRIP_TRAILING_WHITESPACE
                    ERROR_QUIET RESULT_VARIABLE chorus_describe_result)
    if(NOT chorus_describe_result EQUAL 0)
      set(chorus_describe "")
    endif()
  endif()
endif()
set(CHORUS_VERSION_TEXT ${PROJECT_VERSION})
if(chorus_describe)
  string(APPEND CHORUS_VERSION_TEXT " (${chorus_describe})")
endif()
# On version.cpp alone: a new commit recompiles one file, not the server library.
set_source_files_properties(${CMAKE_SOURCE_DIR}/server/version.cpp PROPERTIES
                            COMPILE_DEFINITIONS "CHORUS_VERSION=\"${CHORUS_VERSION_TEXT}\"")

set(CHORUS_INSTALL_SHAREDIR ${CMAKE_INSTALL_DATADIR}/chorus)

# --- The binary.
if(TARGET chorusd)
  install(TARGETS chorusd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

# --- The IVR prompts espeak-ng spoke at build time (mixer/prompts/prompts.cmake).
if(chorus_prompt_outputs)
  install(FILES ${chorus_prompt_outputs} DESTINATION ${CHORUS_INSTALL_SHAREDIR}/prompts)
else()
  # chorusd refuses to start without its prompts: an install without them is an error, not a surprise.
  install(CODE "message(FATAL_ERROR \"no IVR prompts to install: espeak-ng was not found at configure time \
(scripts/install-deps.sh installs it; then reconfigure)\")")
endif()

# --- The page: exactly what rest-api/api/web_routes.hpp serves (kWebAssets and kJsSipAsset), not
# the whole of web/node_modules. tests/integration/test_package.py reads the routes from that
# header and fetches each from an installed chorusd, so this list cannot drift unnoticed.
set(chorus_web_files index.html app.js call.js join.js style.css)
list(TRANSFORM chorus_web_files PREPEND ${CMAKE_SOURCE_DIR}/web/)
install(FILES ${chorus_web_files} DESTINATION ${CHORUS_INSTALL_SHAREDIR}/web)
# JsSIP comes from `npm ci --prefix web` (web/package-lock.json); it is checked when installing,
# since npm may run after CMake configured.
set(chorus_jssip_dir ${CMAKE_SOURCE_DIR}/web/node_modules/jssip)
install(CODE "if(NOT EXISTS \"${chorus_jssip_dir}/dist/jssip.min.js\")
  message(FATAL_ERROR \"${chorus_jssip_dir}/dist/jssip.min.js is missing: run `npm ci --prefix web` \
(scripts/install-deps.sh does) so the page can join rooms\")
endif()")
install(FILES ${chorus_jssip_dir}/dist/jssip.min.js DESTINATION ${CHORUS_INSTALL_SHAREDIR}/web/node_modules/jssip/dist)
install(FILES ${chorus_jssip_dir}/LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR}/jssip)  # MIT: ship its notice

# --- Documentation and the example configuration (CMAKE_INSTALL_DOCDIR is share/doc/chorus).
install(FILES ${CMAKE_CURRENT_LIST_DIR}/chorus.example.yaml ${CMAKE_SOURCE_DIR}/docs/operations.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- systemd. Relative to the prefix: /usr/lib/systemd/system in the package (Debian 12 merged /usr).
install(FILES ${CMAKE_CURRENT_LIST_DIR}/chorus.service DESTINATION lib/systemd/system)

# --- The Debian package (CPack DEB). `make package` builds it into the build folder.
# `install` and `package` take what is built and build nothing more (CMake would build every target
# first, unit tests and benchmarks included): `make package` builds first, the Docker build and
# tests/integration/test_package.py build chorusd (with its prompts) first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CMAKE_SKIP_PACKAGE_ALL_DEPENDENCY ON)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME chorus)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Chorus")
set(CPACK_PACKAGE_CONTACT "Chorus developers <chorus@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "multipoint conference server for SIP phones and browsers")
set(CPACK_PACKAGE_DESCRIPTION
    "Chorus hosts conference rooms that SIP phones, room systems, PBX trunks and browsers (WebRTC) dial into: \
an audio MCU, video forwarding (SFU) or composition (MCU), PINs, scheduled meetings, recordings and a REST API. \
It runs as the chorus systemd service with its data in /var/lib/chorus.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # chorus_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# The shared libraries chorusd links (GStreamer, libical, SQLite, libpq, OpenSSL, yaml-cpp, liburing,
# ...) are found by dpkg-shlibdeps (dpkg-dev) and added to Depends.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# What dpkg-shlibdeps cannot see: the GStreamer plugins the pipelines load by element name at run
# time (scripts/install-deps.sh's gstreamer lines). base: opus, audioconvert/resample, compositor,
# decodebin; good: rtpjitterbuffer, the RTP (de)payloaders, G.711, VP8, matroska/webm, wavparse;
# ugly: x264enc; libav: G.722 and avdec_h264; x: textoverlay (the video MCU's name labels);
# bad: h264parse (the recorder's H.264 recordings).
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "gstreamer1.0-plugins-base, gstreamer1.0-plugins-good, gstreamer1.0-plugins-ugly, gstreamer1.0-libav, gstreamer1.0-x, gstreamer1.0-plugins-bad")
set(CPACK_SOURCE_GENERATOR "")
include(CPack)
