// osprey: inspect, run, benchmark and apply TFLite vision models.
#include <cstdio>
#include <new>

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
    return app.exit(e);
  } catch (const osprey::Error& e) {
    std::fprintf(stderr, "osprey: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "osprey: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "osprey: %s\n", e.what());
    return 1;
  }
  return 0;
}
