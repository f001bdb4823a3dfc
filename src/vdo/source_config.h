// Where libvdostream's images come from: OSPREY_VDO_* environment variables
// over a key=value config file (docs/service.md, "VDO video source").
#pragma once

#include <string>

namespace osprey::vdo {

struct SourceConfig {
  std::string source;     // a video file, a folder of images or a V4L2 device
  bool loop = true;       // at the end of a video: start again, or end the stream
  bool realtime = false;  // pace delivery at the stream's framerate
  std::string origin;     // where the settings were read, for messages
};

// Reads $OSPREY_VDO_CONFIG (or $XDG_CONFIG_HOME/osprey/vdo.conf, or
// ~/.config/osprey/vdo.conf) when present, then the environment
// (OSPREY_VDO_SOURCE, OSPREY_VDO_LOOP, OSPREY_VDO_REALTIME) on top. Returns
// false with a one-line error for an unreadable or malformed config file.
bool load_source_config(SourceConfig& config, std::string& error);

}  // namespace osprey::vdo
