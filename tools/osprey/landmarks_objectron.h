// `osprey landmarks IMAGE|VIDEO --pipeline objectron --object NAME`: the
// objectron branch of the landmarks command (cmd_landmarks.cpp parses the
// options and hands them here).
#pragma once

#include <string>

#include "backend_options.h"
#include "video_loop.h"
#include "vision/landmarks/objectron_pipeline.h"

namespace osprey::cli {

struct ObjectronCommand {
  std::string input;  // image, video file, image folder or /dev/videoN
  BackendChoice backend;
  VideoLoopOptions video;
  vision::ObjectronOptions pipeline;
  bool json = false;
  bool no_tracking = false;
  std::string out;
};

void run_objectron_landmarks(ObjectronCommand command);

}  // namespace osprey::cli
