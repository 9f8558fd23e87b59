// End to end: `flowlab ot` between .npy clouds, flow matching with minibatch OT couplings,
// and a Monge map trained with `task: monge_map` and applied by `flowlab sample`.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "support/helpers.h"

namespace flowlab {
namespace {

using testing::json_value;
using testing::read_file;
using testing::run_command;
using testing::run_python;
using testing::TempDir;

using testing::flowlab;

TEST(OtCli, DistancesBetweenNpyCloudsMatchPot) {
  TempDir dir;
  const std::string pot = run_python(
      "import numpy as np, ot, warnings\nwarnings.filterwarnings('ignore')\n"
      "rng = np.random.default_rng(0)\n"
      "x = rng.standard_normal((60, 2)); y = rng.standard_normal((60, 2)) * 0.7 + 1\n"
      "np.save('" + dir.file("x.npy") + "', x); np.save('" + dir.file("y.npy") + "', y)\n"
      "print('%.12f' % ot.bregman.empirical_sinkhorn_divergence(x, y, 0.5, numIterMax=100000, stopThr=1e-12))\n"
      "print('%.12f' % ot.emd2(np.ones(60) / 60, np.ones(60) / 60, ot.dist(x, y)))\n"
      "print('%.12f' % ot.emd2(np.ones(60) / 60, np.ones(60) / 60, ot.dist(x, y, 'euclidean')))\n");
  const double pot_divergence = std::stod(pot.substr(0, pot.find('\n')));
  const std::size_t second_line = pot.find('\n') + 1;
  const double pot_emd = std::stod(pot.substr(second_line));
  const double pot_emd_euclidean = std::stod(pot.substr(pot.find('\n', second_line) + 1));
  const std::string clouds = " " + dir.file("x.npy") + " " + dir.file("y.npy");

  auto r = run_command(flowlab() + " ot" + clouds + " --metric sinkhorn --value transport --eps 0.5" +
                       " --tolerance 1e-11 --max-iter 100000 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NEAR(json_value(r.output, "value"), pot_divergence, 1e-8);
  EXPECT_NE(r.output.find("\"converged\": true"), std::string::npos) << r.output;

  r = run_command(flowlab() + " ot" + clouds + " --metric exact --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NEAR(json_value(r.output, "value"), pot_emd, 1e-9);
  r = run_command(flowlab() + " ot" + clouds + " --metric exact --cost euclidean --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NEAR(json_value(r.output, "value"), pot_emd_euclidean, 1e-9);
  r = run_command(flowlab() + " ot" + clouds + " --metric exact_w2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NEAR(json_value(r.output, "value"), std::sqrt(pot_emd), 1e-9);

  // Every metric of the registry, by its registry name.
  for (const char* metric : {"sliced_w2", "mmd", "energy_distance"}) {
    r = run_command(flowlab() + " ot" + clouds + " --metric " + metric);
    ASSERT_EQ(r.exit_code, 0) << metric << "\n" << r.output;
  }
  // --set reaches keys without a flag; a key the metric does not have is a usage error naming it.
  r = run_command(flowlab() + " ot" + clouds + " --metric mmd --set biased=true --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"biased\": true"), std::string::npos) << r.output;
  r = run_command(flowlab() + " ot" + clouds + " --metric sinkhorn --projections 10");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("projections"), std::string::npos) << r.output;
  r = run_command(flowlab() + " ot" + clouds + " --metric sliced");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("sliced_w2"), std::string::npos) << r.output;  // the suggestion
  // Not converging is an error, with the numbers shown as not converged.
  r = run_command(flowlab() + " ot" + clouds + " --eps 0.001 --max-iter 5 --json");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("\"converged\": false"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("did not converge"), std::string::npos) << r.output;
  // Short of --tolerance, but the value certified within --value-tolerance x |value|: a note, exit 0.
  r = run_command(flowlab() + " ot" + clouds + " --eps 0.05 --max-iter 30 --value-tolerance 0.5 --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"converged\": false"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"accepted\": true"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("value is certified within"), std::string::npos) << r.output;
  r = run_command(flowlab() + " ot" + clouds + " --eps 0.05 --max-iter 30 --value-tolerance 1e-12 --json");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  // --repeat N times N computations and reports the fastest.
  r = run_command(flowlab() + " ot" + clouds + " --repeat 2 --json");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"repeat\": 2"), std::string::npos) << r.output;
  // Bad input: unequal sizes for exact, missing files, unknown metrics.
  run_python("import numpy as np\nnp.save('" + dir.file("z.npy") + "', np.zeros((7, 2)))\n");
  r = run_command(flowlab() + " ot " + dir.file("x.npy") + " " + dir.file("z.npy") + " --metric exact");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("equal size"), std::string::npos) << r.output;
  r = run_command(flowlab() + " ot " + dir.file("x.npy") + " " + dir.file("z.npy") + " --metric exact --max-points 7");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " ot " + dir.file("x.npy") + " " + dir.file("missing.npy"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  r = run_command(flowlab() + " ot" + clouds + " --metric wasserstein");
  EXPECT_EQ(r.exit_code, 2) << r.output;
}

TEST(OtCli, TrainsWithOtCouplingsAndAMongeMap) {
  TempDir dir;
  const std::string config = testing::source_dir() + "/configs/toy/8gaussians_to_moons_ot.yaml";
  const std::string small = " run.threads=1 train.steps=30 train.batch_size=64 train.log_every=10 model.hidden=[32,32]";
  for (const char* coupling : {"exact_ot", "sinkhorn_ot"}) {
    auto r = run_command(flowlab() + " train " + config + " --set run.dir=" + dir.path() + " run.name=" + coupling +
                         " coupling.type=" + coupling + small);
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  auto r = run_command(flowlab() + " eval " + dir.path() + "/exact_ot --n 200 --json " + dir.file("eval.json") +
                       " --set sample.solver=euler sample.steps=1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string eval = read_file(dir.file("eval.json"));
  EXPECT_GT(json_value(eval, "exact_w2"), 0.0);
  EXPECT_GT(json_value(eval, "transport_cost"), 0.0);

  const std::string monge = testing::source_dir() + "/configs/toy/monge_map.yaml";
  r = run_command(flowlab() + " train " + monge + " --set run.dir=" + dir.path() + " run.name=monge" + small);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " sample " + dir.path() + "/monge --n 100 --out " + dir.file("mapped.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("1 field evaluations"), std::string::npos) << r.output;  // T applied once
  EXPECT_TRUE(std::filesystem::exists(dir.file("mapped.npy")));
  // A map is applied once: other solvers are config errors, as are mismatched tasks and couplings.
  r = run_command(flowlab() + " sample " + dir.path() + "/monge --n 10 --solver heun --out " + dir.file("h.npy"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("sample.solver"), std::string::npos) << r.output;
  for (const std::string bad : {"objective.type=flow_matching", "coupling.type=exact_ot", "path.gamma=brownian"}) {
    r = run_command(flowlab() + " train " + monge + " --set run.dir=" + dir.path() + " run.name=bad " + bad + small);
    EXPECT_EQ(r.exit_code, 2) << bad << "\n" << r.output;
  }
  r = run_command(flowlab() + " train " + config + " --set run.dir=" + dir.path() +
                  " run.name=bad2 coupling.class_aware=true" + small);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("class_aware"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace flowlab
