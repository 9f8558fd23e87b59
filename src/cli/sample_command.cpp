#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <utility>

#include "commands.h"
#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/core/strings.h"
#include "flowlab/data/image_dataset.h"
#include "flowlab/io/atomic_file.h"
#include "flowlab/io/image_grid.h"
#include "flowlab/io/npy.h"
#include "flowlab/io/plot.h"
#include "flowlab/train/evaluation.h"
#include "run_overrides.h"

namespace flowlab::cli {
namespace {

// "<dir>/samples.npy" -> "<dir>/samples_labels.npy".
std::string labels_file(const std::string& samples_file) {
  const auto dot = samples_file.rfind(".npy");
  const std::string stem = dot != std::string::npos && dot + 4 == samples_file.size() ? samples_file.substr(0, dot)
                                                                                      : samples_file;
  return stem + "_labels.npy";
}

// A run copied without its (empty) samples/ and plots/ folders still samples.
void make_parent_directory(const std::string& file) {
  const std::filesystem::path parent = std::filesystem::path(file).parent_path();
  if (!parent.empty()) io::make_directories(parent.string());
}

constexpr int64_t kDefaultGridSize = 8;
// Tiles smaller than this many pixels a side are upscaled (nearest neighbour) to stay visible.
constexpr int64_t kGridTargetSide = 64;

bool samples_are_images(const train::Experiment& exp) { return exp.data->sample_shape().size() == 3; }

// What a grid of `columns` columns shows (see io::sample_grid_rows) and the samples to draw so
// that every tile is filled: sample i has class i mod K, or class[i mod m] of a list of m.
struct GridNeeds {
  int64_t tiles = 0;
  int64_t samples = 0;
  bool by_class = false;  ///< one row per class
};
GridNeeds grid_needs(const train::Experiment& exp, int64_t columns) {
  const int64_t classes = exp.model->num_classes();
  const train::SampleOptions& o = exp.sample;
  if (classes == 0 || o.class_mode == "none") return {columns * columns, columns * columns};
  const int64_t cycle = o.classes.empty() ? classes : static_cast<int64_t>(o.classes.size());
  const int64_t distinct =
      o.classes.empty() ? classes : static_cast<int64_t>(std::set<int64_t>(o.classes.begin(), o.classes.end()).size());
  if (distinct == 1) return {columns * columns, columns * columns};
  return {columns * distinct, columns * cycle, true};
}

bool sets_sample_n(const std::vector<std::string>& overrides) {
  return std::any_of(overrides.begin(), overrides.end(),
                     [](const std::string& o) { return o.rfind("sample.n=", 0) == 0; });
}

}  // namespace

int sample_command(const SampleArgs& args) {
  if (args.grid_size && *args.grid_size < 1) {
    throw ConfigError("--grid-size: expected an integer >= 1 (columns of the image grid), got " +
                      std::to_string(*args.grid_size));
  }
  const int64_t grid_size = args.grid_size.value_or(kDefaultGridSize);
  // Launched in several processes (torchrun, RANK/WORLD_SIZE...), each integrates its share of
  // the chunks and rank 0 writes.
  const distributed::LaunchEnvironment launch = distributed::read_launch_environment();
  set_log_rank(launch.rank);
  std::vector<std::string> overrides = args.overrides;
  if (args.n) overrides.push_back("sample.n=" + std::to_string(*args.n));
  if (args.solver) overrides.push_back("sample.solver=" + *args.solver);
  if (args.steps) overrides.push_back("sample.steps=" + std::to_string(*args.steps));
  // Shortest round-trip text: std::to_string would turn 1e-7 into "0.000000".
  if (args.atol) overrides.push_back("sample.atol=" + json_number(*args.atol));
  if (args.rtol) overrides.push_back("sample.rtol=" + json_number(*args.rtol));
  add_sde_overrides(args.sde, args.eps, overrides);
  add_class_overrides(args.classes, args.class_mode, args.guidance, overrides);
  train::require_flow(args.run_dir, "flowlab sample");
  LoadedRun run = load_run(args.run_dir, overrides, args.checkpoint);
  train::Experiment& exp = *run.experiment;
  const uint64_t seed = static_cast<uint64_t>(args.seed.value_or(exp.run.seed + 1));
  // --grid-size without --n (or --set sample.n=...): draw just what the grid shows. Set on the
  // built experiment, as only it knows whether the samples are images and how many classes there are.
  if (args.grid_size && !args.n && !sets_sample_n(args.overrides) && samples_are_images(exp)) {
    exp.sample.n = grid_needs(exp, grid_size).samples;
  }

  const std::unique_ptr<distributed::ProcessGroup> group = join_launched_group(launch, exp);
  const auto start = std::chrono::steady_clock::now();
  const train::GeneratedSamples samples =
      train::generate_samples(exp, train::sampling_model(exp), exp.sample.n, seed, group.get());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (launch.rank != 0) return 0;
  const std::string out = args.out.empty() ? exp.run_dir() + "/samples/samples.npy" : args.out;
  make_parent_directory(out);
  io::write_npy(out, samples.x);
  const std::string method = exp.sample.sde.enabled ? "SDE " + exp.sample.sde.solver + " eps " +
                                                           exp.sample.sde.eps.type + " " +
                                                           format("%g", exp.sample.sde.eps.eps)
                                                     : exp.sample.solver;
  log_info(format("%lld samples from %s (step %lld) with %s: %lld field evaluations, %lld rejected steps, %.2f s -> %s",
                  static_cast<long long>(exp.sample.n), run.checkpoint.c_str(), static_cast<long long>(run.step),
                  method.c_str(), static_cast<long long>(samples.nfe),
                  static_cast<long long>(samples.rejected), seconds, out.c_str()));
  if (samples.labels.defined()) {
    io::write_npy(labels_file(out), samples.labels);
    log_info(format("classes (%s, guidance %g) -> %s", exp.sample.class_mode.c_str(), exp.sample.guidance,
                    labels_file(out).c_str()));
  }
  if (samples.x.dim() == 2 && samples.x.size(1) >= 2) {
    const std::string plot = args.plot.empty() ? exp.run_dir() + "/plots/samples.png" : args.plot;
    make_parent_directory(plot);
    auto gen = data::make_generator(seed + 1);
    // Beside class-conditional samples, data of the same classes.
    const torch::Tensor reference = samples.labels.defined()
                                        ? data::sample_of_classes(*exp.data, samples.labels, gen)
                                        : exp.data->sample(samples.x.size(0), gen).x;
    io::plot_samples_beside_data(plot, samples.x, reference);
    log_info("plot (data left, samples right) -> " + plot + " (and .svg, .data.json with the points)");
    if (args.grid_size) log_warn("--grid-size: samples are not images; ignored");
  } else if (samples.x.dim() == 4 && (samples.x.size(1) == 1 || samples.x.size(1) == 3)) {
    const std::string plot = args.plot.empty() ? exp.run_dir() + "/plots/samples.png" : args.plot;
    make_parent_directory(plot);
    const std::vector<torch::Tensor> rows = io::sample_grid_rows(samples.x, samples.labels, grid_size);
    int64_t shown = 0;
    for (const torch::Tensor& row : rows) shown += row.size(0);
    const GridNeeds needs = grid_needs(exp, grid_size);
    if (shown < needs.tiles) {
      log_info(format("grid: %lld of %lld tiles filled from %lld samples (--grid-size without --n draws enough)",
                      static_cast<long long>(shown), static_cast<long long>(needs.tiles),
                      static_cast<long long>(samples.x.size(0))));
    }
    const data::PixelRange range = data::pixel_range_of(exp.config.section("data"));
    const double lo = range.lo, hi = range.hi;
    const int64_t side = std::max(samples.x.size(2), samples.x.size(3));
    const int scale = static_cast<int>(std::max<int64_t>(1, kGridTargetSide / side));
    io::write_figure(plot, io::image_grid_figure(rows, grid_size, lo, hi, /*padding=*/2, scale));
    log_info(format("plot (grid of %lld rows%s x %lld columns, pixels [%g, %g] upscaled %dx) -> %s",
                    static_cast<long long>(rows.size()), needs.by_class ? ", one per class," : "",
                    static_cast<long long>(grid_size), lo, hi, scale, plot.c_str()));
  } else if (!args.plot.empty() || args.grid_size) {
    log_warn("--plot: samples are neither 2-D points nor images [N, 1 or 3, H, W]; no plot written");
  }
  return 0;
}

}  // namespace flowlab::cli
