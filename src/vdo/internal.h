// What the parts of libvdostream share and applications do not see.
#pragma once

#include <memory>
#include <string>

#include "media/video_reader.h"
#include "vdo-buffer.h"
#include "vdo-error.h"
#include "vdo/source_config.h"

namespace osprey::vdo {

// A buffer of capacity bytes in its own memfd, mapped read-write.
VdoBuffer* buffer_new(gsize capacity, guint32 id, gpointer opaque, VdoBufferFinalizer fin, GError** error);
// Describes the image just written into the buffer.
void buffer_set_frame(VdoBuffer* buffer, VdoFrameType type, guint sequence, guint64 timestamp, gsize size);

// Reads the configuration and opens its source; a GError in VDO_ERROR says why not.
std::unique_ptr<media::VideoReader> open_configured_source(SourceConfig& config, GError** error);

}  // namespace osprey::vdo
