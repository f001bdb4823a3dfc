// Each `osprey` subcommand lives in its own cmd_*.cpp and adds itself here.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>

namespace osprey::cli {

// A whole number from `min` to `max`, for CLI11's check(): the messages of
// its PositiveNumber and NonNegativeNumber name the upper bound as a
// 309-digit number.
inline CLI::Range whole_number(int64_t min, int64_t max = std::numeric_limits<int32_t>::max()) {
  return CLI::Range(min, max);
}

void add_inspect_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_detect_command(CLI::App& app);
void add_segment_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_quantize_command(CLI::App& app);
void add_compare_command(CLI::App& app);
void add_check_command(CLI::App& app);
void add_track_command(CLI::App& app);
void add_ocr_command(CLI::App& app);
void add_landmarks_command(CLI::App& app);
void add_convert_command(CLI::App& app);

}  // namespace osprey::cli
