/* A camera-style app written the way the public ACAP examples use VDO:
 * channel query, a stream from a VdoMap of settings, poll() on the stream
 * fd, buffers taken and returned, g_autoptr cleanup. Built by
 * tests/vdo/pkg_config_test.sh through `pkg-config vdostream` with the
 * examples' warning flags. Prints one line per frame:
 *   frame <seq> <width>x<height> size <bytes> fd <fd> offset <off> sum <checksum>
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>

#include "vdo-buffer.h"
#include "vdo-channel.h"
#include "vdo-error.h"
#include "vdo-frame.h"
#include "vdo-map.h"
#include "vdo-stream.h"
#include "vdo-types.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VdoResolutionSet, g_free)

static int fail(const char* what, const GError* error) {
  fprintf(stderr, "%s: %s\n", what, error ? error->message : "no error message");
  return 1;
}

static unsigned long checksum(const unsigned char* data, gsize size) {
  unsigned long sum = 0;
  for (gsize i = 0; i < size; ++i) sum = sum * 31u + data[i];
  return sum;
}

int main(int argc, char** argv) {
  const unsigned max_frames = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 5u;
  g_autoptr(GError) error = NULL;

  g_autoptr(VdoMap) desc = vdo_map_new();
  vdo_map_set_uint32(desc, "input", 1);
  g_autoptr(VdoChannel) channel = vdo_channel_get_ex(desc, &error);
  if (!channel) return fail("vdo_channel_get_ex", error);
  g_autoptr(VdoMap) channel_info = vdo_channel_get_info(channel, &error);
  if (!channel_info) return fail("vdo_channel_get_info", error);
  VdoPair32u none = {.w = 0u, .h = 0u};
  VdoPair32u aspect = vdo_map_get_pair32u(channel_info, "aspect_ratio", none);
  printf("channel %u: %ux%u aspect %u:%u\n", vdo_map_get_uint32(channel_info, "id", 0),
         vdo_map_get_uint32(channel_info, "width", 0), vdo_map_get_uint32(channel_info, "height", 0),
         aspect.w, aspect.h);

  g_autoptr(VdoMap) filter = vdo_map_new();
  vdo_map_set_uint32(filter, "format", VDO_FORMAT_YUV);
  vdo_map_set_string(filter, "select", "minmax");
  g_autoptr(VdoResolutionSet) set = vdo_channel_get_resolutions(channel, filter, &error);
  if (!set || set->count != 2) return fail("vdo_channel_get_resolutions", error);

  g_autoptr(VdoMap) settings = vdo_map_new();
  vdo_map_set_uint32(settings, "channel", 1);
  vdo_map_set_uint32(settings, "format", VDO_FORMAT_YUV);
  VdoPair32u resolution = {.w = 320u, .h = 240u};
  vdo_map_set_pair32u(settings, "resolution", resolution);
  vdo_map_set_double(settings, "framerate", 30.0);
  vdo_map_set_boolean(settings, "dynamic.framerate", TRUE);
  vdo_map_set_uint32(settings, "buffer.count", 2);
  vdo_map_set_boolean(settings, "socket.blocking", FALSE);
  vdo_map_set_string(settings, "image.fit", "scale");
  g_autoptr(VdoStream) stream = vdo_stream_new(settings, NULL, &error);
  if (!stream) return fail("vdo_stream_new", error);
  g_autoptr(VdoMap) info = vdo_stream_get_info(stream, &error);
  if (!info) return fail("vdo_stream_get_info", error);
  const guint width = vdo_map_get_uint32(info, "width", 0), height = vdo_map_get_uint32(info, "height", 0);

  struct pollfd fds = {.fd = vdo_stream_get_fd(stream, &error), .events = POLLIN};
  if (fds.fd < 0) return fail("vdo_stream_get_fd", error);
  if (!vdo_stream_start(stream, &error)) return fail("vdo_stream_start", error);

  for (unsigned n = 0; n < max_frames; ++n) {
    int status;
    do {
      status = poll(&fds, 1, 5000);
    } while (status == -1 && errno == EINTR);
    if (status != 1) return fail("poll on the stream fd", NULL);
    g_autoptr(VdoBuffer) buffer = vdo_stream_get_buffer(stream, &error);
    if (!buffer && g_error_matches(error, VDO_ERROR, VDO_ERROR_NO_DATA)) {
      g_clear_error(&error);
      continue;
    }
    if (!buffer) {
      if (vdo_error_is_expected(&error)) {
        printf("end: %s\n", error->message);
        return 0;
      }
      return fail("vdo_stream_get_buffer", error);
    }
    VdoFrame* frame = vdo_buffer_get_frame(buffer);
    const gsize size = vdo_frame_get_size(frame);
    if (size > vdo_buffer_get_capacity(buffer) || vdo_frame_get_timestamp(frame) == 0) {
      return fail("frame metadata", NULL);
    }
    printf("frame %u %ux%u size %zu fd %d offset %lld sum %lu\n", vdo_frame_get_sequence_nbr(frame), width,
           height, (size_t)size, vdo_buffer_get_fd(buffer), (long long)vdo_buffer_get_offset(buffer),
           checksum((const unsigned char*)vdo_buffer_get_data(buffer), size));
    if (!vdo_stream_buffer_unref(stream, &buffer, &error)) return fail("vdo_stream_buffer_unref", error);
  }
  vdo_stream_stop(stream);
  return 0;
}
