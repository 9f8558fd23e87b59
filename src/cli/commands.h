#pragma once
// One function per subcommand; main() parses arguments and maps exceptions to exit codes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace flowlab::cli {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;
  bool resume = false;
};
int train_command(const TrainArgs& args);

struct SampleArgs {
  std::string run_dir;
  std::optional<int64_t> n, steps, seed;
  std::optional<std::string> solver, checkpoint;
  std::optional<double> atol, rtol, eps;
  bool sde = false;
  std::vector<int64_t> classes;           ///< --class K, repeatable
  std::optional<std::string> class_mode;  ///< --classes all|none
  std::optional<double> guidance;
  std::string out, plot;
  std::optional<int64_t> grid_size;  ///< --grid-size N: columns of the image grid (default 8)
  std::vector<std::string> overrides;  ///< --set KEY=VALUE on the run's config
};
int sample_command(const SampleArgs& args);

struct EvalArgs {
  std::string run_dir;
  std::optional<int64_t> n, seed;
  std::optional<std::string> checkpoint;
  std::vector<std::string> metrics;
  std::string data;  ///< .npy of data points for nll (default: fresh draws from the data)
  bool sde = false;
  std::optional<double> eps;
  std::vector<int64_t> classes;
  std::optional<std::string> class_mode;
  std::optional<double> guidance;
  std::string json;
  std::vector<std::string> overrides;  ///< --set KEY=VALUE on the run's config
};
int eval_command(const EvalArgs& args);

struct PathEnergyArgs {
  std::string target;  ///< a config file or a run directory
  std::vector<std::string> overrides;
  std::vector<std::string> paths;  ///< Gaussian paths whose energy is compared (default options)
  std::optional<int64_t> data_points, noise_samples, knots, n, seed;
  std::optional<std::string> checkpoint;
  std::string json, plot;
};
int path_energy_command(const PathEnergyArgs& args);

struct DiagnoseArgs {
  std::string run_dir;
  std::vector<double> times{0.1, 0.3, 0.5, 0.7, 0.9};
  int64_t points = 256, probes = 8, loop_points = 64;
  std::vector<double> radii{0.01, 0.1, 0.5};
  double id_time = 0.99;     ///< time of the score-spectrum intrinsic dimension (near the data, t = 1)
  int64_t id_points = 100;   ///< data points whose dimension is estimated; 0 skips it
  int64_t id_samples = 0;    ///< scores per point; 0: 4 D
  int64_t id_directions = 0; ///< directions of the flow-Jacobian dimension; 0: min(D, 64)
  int64_t gauge_steps = 0;   ///< steps fitting the conservative part grad phi; 0 skips the gauge decomposition
  std::vector<int64_t> classes;           ///< conditional models: --class K (one)
  std::optional<std::string> class_mode;  ///< --classes none: the unconditional field
  std::optional<double> guidance;
  std::optional<int64_t> seed;
  std::optional<std::string> checkpoint;
  std::vector<std::string> overrides;
  std::string json, plot;
};
int diagnose_command(const DiagnoseArgs& args);

struct OtArgs {
  std::string a, b;  ///< .npy point clouds [n, d] and [m, d]
  std::string metric = "sinkhorn";  ///< a name of the metrics registry
  /// "key=VALUE" settings of the metric (its config keys; the flags --eps, --cost, ... and --set give them)
  std::vector<std::string> settings;
  int64_t repeat = 1;  ///< computations timed; the fastest is reported
  uint64_t seed = 0;   ///< of the generator a randomized metric (sliced_w2) draws from
  bool float32 = false, json = false;
  std::string device = "cpu";
};
int ot_command(const OtArgs& args);

int list_command(const std::string& family);

}  // namespace flowlab::cli
