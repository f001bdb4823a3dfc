// osprey: inspect, run, benchmark and apply TFLite vision models.
#include <algorithm>
#include <cstdio>
#include <new>
#include <string>

#include "commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"osprey: on-device computer-vision inference (TFLite models)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "osprey 0.1.0");
  osprey::cli::add_inspect_command(app);
  osprey::cli::add_run_command(app);
  osprey::cli::add_detect_command(app);
  osprey::cli::add_segment_command(app);
  osprey::cli::add_bench_command(app);
  osprey::cli::add_quantize_command(app);
  osprey::cli::add_compare_command(app);
  osprey::cli::add_check_command(app);
  osprey::cli::add_track_command(app);
  osprey::cli::add_ocr_command(app);
  osprey::cli::add_landmarks_command(app);
  osprey::cli::add_convert_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version, which CLI11 raises as "errors" of exit code 0.
    if (e.get_exit_code() == 0) return app.exit(e);
    // A usage error: one line, as every other error, and exit code 2.
    std::string message = e.what();
    std::replace(message.begin(), message.end(), '\n', ' ');
    std::fprintf(stderr, "osprey: %s (see --help)\n", osprey::printable(message).c_str());
    return 2;
  } catch (const osprey::Error& e) {
    std::fprintf(stderr, "osprey: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "osprey: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "osprey: %s\n", osprey::printable(e.what()).c_str());
    return 1;
  }
  return 0;
}
