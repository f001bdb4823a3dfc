// Writes an RGB image as a PNG with stored (uncompressed) deflate blocks: no
// zlib needed, and the file holds exactly the bytes the detector was given.
#include "png_dump.h"

#include <stdio.h>
#include <string.h>

static uint32_t crc32_update(uint32_t crc, const uint8_t* data, size_t size) {
  crc = ~crc;
  for (size_t i = 0; i < size; i++) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; bit++) {
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  }
  return ~crc;
}

static void put_be32(uint8_t* out, uint32_t value) {
  out[0] = (uint8_t)(value >> 24);
  out[1] = (uint8_t)(value >> 16);
  out[2] = (uint8_t)(value >> 8);
  out[3] = (uint8_t)value;
}

// One chunk: length, type, data, CRC of type + data. The data is written in
// pieces so the image need not be copied into one buffer.
typedef struct {
  FILE* file;
  uint32_t crc;
  int ok;
} chunk_writer_t;

static void chunk_begin(chunk_writer_t* w, const char* type, uint32_t length) {
  uint8_t header[8];
  put_be32(header, length);
  memcpy(header + 4, type, 4);
  w->ok = w->ok && fwrite(header, 1, 8, w->file) == 8;
  w->crc = crc32_update(0, header + 4, 4);
}

static void chunk_data(chunk_writer_t* w, const uint8_t* data, size_t size) {
  w->ok = w->ok && fwrite(data, 1, size, w->file) == size;
  w->crc = crc32_update(w->crc, data, size);
}

static void chunk_end(chunk_writer_t* w) {
  uint8_t crc[4];
  put_be32(crc, w->crc);
  w->ok = w->ok && fwrite(crc, 1, 4, w->file) == 4;
}

bool png_dump_rgb(const char* path, const uint8_t* rgb, unsigned width, unsigned height, size_t row_pitch) {
  FILE* file = fopen(path, "wb");
  if (!file) {
    return false;
  }
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  chunk_writer_t w = {file, 0, fwrite(signature, 1, 8, file) == 8};

  uint8_t ihdr[13];
  put_be32(ihdr, width);
  put_be32(ihdr + 4, height);
  ihdr[8] = 8;  // bit depth
  ihdr[9] = 2;  // colour type: RGB
  ihdr[10] = ihdr[11] = ihdr[12] = 0;
  chunk_begin(&w, "IHDR", sizeof(ihdr));
  chunk_data(&w, ihdr, sizeof(ihdr));
  chunk_end(&w);

  // zlib stream: header, one stored block per row (filter byte + pixels,
  // well under the 65535-byte block limit for any model input), Adler-32.
  const size_t row_bytes = 1 + (size_t)width * 3;
  const size_t idat_size = 2 + (size_t)height * (5 + row_bytes) + 4;
  chunk_begin(&w, "IDAT", (uint32_t)idat_size);
  const uint8_t zlib_header[2] = {0x78, 0x01};
  chunk_data(&w, zlib_header, 2);
  uint32_t adler_a = 1, adler_b = 0;
  for (unsigned y = 0; y < height; y++) {
    const uint16_t len = (uint16_t)row_bytes;
    const uint8_t block[5] = {y + 1 == height ? 1 : 0, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)~len,
                              (uint8_t)(~len >> 8)};
    const uint8_t filter = 0;
    const uint8_t* row = rgb + (size_t)y * row_pitch;
    chunk_data(&w, block, 5);
    chunk_data(&w, &filter, 1);
    chunk_data(&w, row, row_bytes - 1);
    adler_b = (adler_b + adler_a) % 65521u;  // the filter byte (0)
    for (size_t i = 0; i + 1 < row_bytes; i++) {
      adler_a = (adler_a + row[i]) % 65521u;
      adler_b = (adler_b + adler_a) % 65521u;
    }
  }
  uint8_t adler[4];
  put_be32(adler, (adler_b << 16) | adler_a);
  chunk_data(&w, adler, 4);
  chunk_end(&w);

  chunk_begin(&w, "IEND", 0);
  chunk_end(&w);
  const bool closed = fclose(file) == 0;
  return w.ok && closed;
}
