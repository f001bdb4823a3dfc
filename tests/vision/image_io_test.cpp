// Decoding real JPEG/PNG files made by libjpeg/libpng, EXIF orientation, and
// corrupt input that must fail with a one-line osprey::Error.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "vision/image_io.h"
#include "vision/test_images.h"

namespace osprey::vision {
namespace {

using testing::encode_jpeg;
using testing::encode_png_with_exif;
using testing::exif_block;
using testing::gradient_image;
using testing::quadrant_image;

// Throws the decode error's message, or "" when the bytes decoded.
std::string decode_error(std::span<const uint8_t> bytes) {
  try {
    decode_image(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void expect_color(const Image& image, int x, int y, int r, int g, int b, int tolerance = 40) {
  const uint8_t* p = image.at(x, y);
  EXPECT_NEAR(p[0], r, tolerance) << "at " << x << "," << y;
  EXPECT_NEAR(p[1], g, tolerance) << "at " << x << "," << y;
  EXPECT_NEAR(p[2], b, tolerance) << "at " << x << "," << y;
}

TEST(ImageIo, PngRoundTripKeepsEveryChannelLayout) {
  for (int channels : {1, 3, 4}) {
    const Image original = gradient_image(37, 21, channels);
    const Image decoded = decode_image(encode_png(original));
    EXPECT_EQ(decoded.width, 37);
    EXPECT_EQ(decoded.height, 21);
    EXPECT_EQ(decoded.channels, channels);
    EXPECT_EQ(decoded.pixels, original.pixels) << channels << " channels";
  }
}

TEST(ImageIo, DecodesJpegRgbAndGray) {
  const Image rgb = decode_image(encode_jpeg(quadrant_image(64, 32), 95));
  ASSERT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.width, 64);
  EXPECT_EQ(rgb.height, 32);
  expect_color(rgb, 2, 2, 0, 255, 0);
  expect_color(rgb, 20, 20, 255, 0, 0);
  expect_color(rgb, 50, 20, 0, 0, 255);

  const Image gray = decode_image(encode_jpeg(gradient_image(40, 30, 1), 95));
  EXPECT_EQ(gray.channels, 1);
  EXPECT_EQ(gray.width, 40);
  EXPECT_NEAR(gray.at(10, 10)[0], gradient_image(40, 30, 1).at(10, 10)[0], 12);
}

TEST(ImageIo, DecodesProgressiveJpegAndRejectsItsTruncation) {
  // A normal progressive file has ~10 scans: well under the scan limit.
  const auto bytes = encode_jpeg(quadrant_image(64, 32), 90, {}, /*progressive=*/true);
  const Image image = decode_image(bytes);
  expect_color(image, 20, 20, 255, 0, 0);
  EXPECT_NE(decode_error({bytes.data(), bytes.size() / 2}), "");
}

TEST(ImageIo, ApplyOrientationMapsCornersForAllEightValues) {
  // 3x2 image whose pixels are numbered 0..5 in reading order.
  Image image(3, 2, 1);
  for (int i = 0; i < 6; ++i) image.pixels[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  struct Case {
    int orientation, width, height;
    std::vector<uint8_t> pixels;
  };
  const std::vector<Case> cases = {
      {1, 3, 2, {0, 1, 2, 3, 4, 5}}, {2, 3, 2, {2, 1, 0, 5, 4, 3}}, {3, 3, 2, {5, 4, 3, 2, 1, 0}},
      {4, 3, 2, {3, 4, 5, 0, 1, 2}}, {5, 2, 3, {0, 3, 1, 4, 2, 5}}, {6, 2, 3, {3, 0, 4, 1, 5, 2}},
      {7, 2, 3, {5, 2, 4, 1, 3, 0}}, {8, 2, 3, {2, 5, 1, 4, 0, 3}},
  };
  for (const Case& c : cases) {
    const Image out = apply_orientation(image, c.orientation);
    EXPECT_EQ(out.width, c.width) << "orientation " << c.orientation;
    EXPECT_EQ(out.height, c.height) << "orientation " << c.orientation;
    EXPECT_EQ(out.pixels, c.pixels) << "orientation " << c.orientation;
  }
}

TEST(ImageIo, ReadsExifOrientationInBothByteOrders) {
  EXPECT_EQ(exif_orientation(exif_block(6, false)), 6);
  EXPECT_EQ(exif_orientation(exif_block(8, true)), 8);
  EXPECT_EQ(exif_orientation(exif_block(3, false, /*with_header=*/false)), 3);
  EXPECT_EQ(exif_orientation(exif_block(9, false)), 1);  // out of range
  const std::vector<uint8_t> junk = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 0xFF, 0xFF, 0xFF, 0x7F};
  EXPECT_EQ(exif_orientation(junk), 1);
  EXPECT_EQ(exif_orientation({}), 1);
}

TEST(ImageIo, JpegWithExifOrientationSixIsRotatedClockwise) {
  // Stored 64x32: red left half, blue right half. Displayed rotated 90
  // degrees clockwise: 32x64 with red on top and the green corner top right.
  const auto bytes = encode_jpeg(quadrant_image(64, 32), 95, exif_block(6, false));
  const Image shown = decode_image(bytes);
  ASSERT_EQ(shown.width, 32);
  ASSERT_EQ(shown.height, 64);
  expect_color(shown, 16, 16, 255, 0, 0);
  expect_color(shown, 16, 50, 0, 0, 255);
  expect_color(shown, 29, 2, 0, 255, 0);

  DecodeOptions raw;
  raw.apply_exif_orientation = false;
  EXPECT_EQ(decode_image(bytes, raw).width, 64);
}

TEST(ImageIo, JpegWithBigEndianExifOrientationEight) {
  const Image shown = decode_image(encode_jpeg(quadrant_image(64, 32), 95, exif_block(8, true)));
  ASSERT_EQ(shown.width, 32);
  ASSERT_EQ(shown.height, 64);
  expect_color(shown, 16, 16, 0, 0, 255);  // counter-clockwise: blue on top
  expect_color(shown, 2, 61, 0, 255, 0);   // green corner bottom left
}

TEST(ImageIo, PngExifChunkIsHonoured) {
  const auto bytes =
      encode_png_with_exif(quadrant_image(64, 32), exif_block(3, false, /*with_header=*/false));
  const Image shown = decode_image(bytes);
  ASSERT_EQ(shown.width, 64);
  expect_color(shown, 61, 29, 0, 255, 0, 0);  // rotated 180: green corner bottom right
  expect_color(shown, 10, 10, 0, 0, 255, 0);
}

TEST(ImageIo, RejectsUnknownFormatsAndEmptyInput) {
  EXPECT_NE(decode_error({}).find("not a JPEG or PNG"), std::string::npos);
  const std::string gif = "GIF89a....";
  EXPECT_NE(
      decode_error({reinterpret_cast<const uint8_t*>(gif.data()), gif.size()}).find("not a JPEG or PNG"),
      std::string::npos);
  EXPECT_THROW(read_image("/nonexistent/picture.png"), Error);
}

// Every prefix of a valid file must fail cleanly: a one-line osprey::Error,
// never a crash, an exit() from libjpeg, or a half-grey picture.
void expect_truncations_fail(const std::vector<uint8_t>& file, const char* format) {
  ASSERT_EQ(decode_error(file), "") << format << " reference file must decode";
  for (size_t size = 0; size < file.size(); size += (size < 256 ? 1 : 7)) {
    const std::string message = decode_error({file.data(), size});
    EXPECT_NE(message, "") << format << " truncated to " << size << " bytes decoded";
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(ImageIo, TruncatedJpegFailsWithError) {
  expect_truncations_fail(encode_jpeg(gradient_image(48, 40, 3), 90, exif_block(6, false)), "jpeg");
}

TEST(ImageIo, TruncatedPngFailsWithError) {
  expect_truncations_fail(encode_png(gradient_image(48, 40, 4)), "png");
}

TEST(ImageIo, RandomBytesAndBitFlipsNeverCrash) {
  std::mt19937 rng(1234);
  const std::vector<std::vector<uint8_t>> seeds = {encode_jpeg(gradient_image(32, 32, 3), 80),
                                                   encode_png(gradient_image(32, 32, 3))};
  for (const auto& seed : seeds) {
    for (int round = 0; round < 300; ++round) {
      std::vector<uint8_t> bytes = seed;
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      const std::string message = decode_error(bytes);  // may decode or fail, never crash
      EXPECT_EQ(message.find('\n'), std::string::npos);
    }
    // Magic bytes followed by noise.
    for (int round = 0; round < 100; ++round) {
      std::vector<uint8_t> bytes(seed.begin(), seed.begin() + 8);
      bytes.resize(8 + rng() % 2000);
      for (size_t i = 8; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(rng());
      EXPECT_NE(decode_error(bytes), "");
    }
  }
}

uint32_t crc32(const uint8_t* data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

TEST(ImageIo, RejectsHugeDimensionsBeforeAllocating) {
  // A valid PNG header (correct CRC) claiming 30000x30000 pixels: 900
  // megapixels, over the limit, so it must fail without allocating 2.7 GB.
  std::vector<uint8_t> png = encode_png(Image(1, 1, 3));
  for (int i : {16, 20}) {
    png[static_cast<size_t>(i)] = 0;
    png[static_cast<size_t>(i) + 1] = 0;
    png[static_cast<size_t>(i) + 2] = 0x75;
    png[static_cast<size_t>(i) + 3] = 0x30;
  }
  const uint32_t crc = crc32(png.data() + 12, 17);  // chunk type + 13 data bytes
  for (int k = 0; k < 4; ++k) png[29 + static_cast<size_t>(k)] = static_cast<uint8_t>(crc >> (24 - 8 * k));
  const std::string message = decode_error(png);
  EXPECT_NE(message.find("too large"), std::string::npos) << message;
}

}  // namespace
}  // namespace osprey::vision
