// EXIF orientation through libexif; a broken EXIF block never fails a
// decode, it just means "no orientation".
#include <libexif/exif-data.h>

#include <cstring>
#include <memory>
#include <vector>

#include "vision/image_io.h"

namespace osprey::vision {
namespace {

struct ExifDataDeleter {
  void operator()(ExifData* data) const { exif_data_unref(data); }
};

constexpr uint8_t kExifHeader[6] = {'E', 'x', 'i', 'f', 0, 0};
// The TIFF structure addresses at most 64 KiB in a JPEG APP1 segment; PNG
// eXIf chunks may be bigger but the orientation lives in the first IFD.
constexpr size_t kMaxExifBytes = 1 << 20;

}  // namespace

int exif_orientation(std::span<const uint8_t> exif) {
  if (exif.size() < 8 || exif.size() > kMaxExifBytes) return 1;
  // libexif wants the "Exif\0\0" prefix that JPEG APP1 carries; PNG eXIf
  // chunks hold the bare TIFF block.
  std::vector<uint8_t> block;
  if (std::memcmp(exif.data(), kExifHeader, sizeof(kExifHeader)) != 0) {
    block.assign(std::begin(kExifHeader), std::end(kExifHeader));
  }
  block.insert(block.end(), exif.begin(), exif.end());

  std::unique_ptr<ExifData, ExifDataDeleter> data(exif_data_new());
  if (!data) return 1;
  // Do not let libexif "repair" the block by inventing default tags.
  exif_data_unset_option(data.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_load_data(data.get(), block.data(), static_cast<unsigned int>(block.size()));

  ExifEntry* entry = exif_content_get_entry(data->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
  if (entry == nullptr || entry->format != EXIF_FORMAT_SHORT || entry->components < 1 || entry->size < 2 ||
      entry->data == nullptr) {
    return 1;
  }
  const int value = exif_get_short(entry->data, exif_data_get_byte_order(data.get()));
  return value >= 1 && value <= 8 ? value : 1;
}

}  // namespace osprey::vision
