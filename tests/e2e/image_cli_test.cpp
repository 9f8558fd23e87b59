// End to end on images: a class-conditional U-Net run draws a sample grid (one row per class),
// is scored by a feature classifier's class accuracy alone, and is diagnosed in d = 784
// (randomized Jacobian asymmetry and loop circulation).
#include <gtest/gtest.h>

#include <cmath>

#include "support/helpers.h"

namespace flowlab {
namespace {

using testing::flowlab;
using testing::read_file;
using testing::run_command;
using testing::run_python;
using testing::TempDir;

TEST(ImageCli, GridFeaturesOnlyEvaluationAndDiagnosisOfAUNetRun) {
  TempDir dir;
  auto r = run_command(flowlab() + " train " + testing::source_dir() + "/configs/images/fashion_mnist_unet.yaml" +
                       " --set run.dir=" + dir.path() + " run.name=unet run.threads=1 train.steps=2" +
                       " train.batch_size=4 train.log_every=1 train.checkpoint_every=0" +
                       " model.channels=8 model.channel_mult=[1,2] model.attention_resolutions=[] model.groups=4" +
                       " 'eval={metrics: [], n: 8}'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("parameters"), std::string::npos) << r.output;
  const std::string run = dir.path() + "/unet";

  // --grid-size 3 without --n: 3 samples of each of the 10 classes, a row per class; 28-pixel
  // tiles are upscaled 2x, with 2 pixels of padding: 3 (56 + 2) + 2 = 176 wide, 10 (58) + 2 high.
  r = run_command(flowlab() + " sample " + run + " --classes all --grid-size 3 --steps 2 --out " + dir.file("g.npy") +
                  " --plot " + dir.file("grid.png"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string shape = run_python(
      "import numpy as np, struct\n"
      "x = np.load('" + dir.file("g.npy") + "')\n"
      "png = open('" + dir.file("grid.png") + "', 'rb').read()\n"
      "assert png[:8] == b'\\x89PNG\\r\\n\\x1a\\n'\n"
      "print(x.shape, np.load('" + dir.file("g_labels.npy") + "')[:12].tolist(), struct.unpack('>II', png[16:24]))\n");
  EXPECT_NE(shape.find("(30, 1, 28, 28) [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1] (176, 582)"), std::string::npos)
      << shape;
  r = run_command(flowlab() + " sample " + run + " --grid-size 0");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  // Other ODE solvers and the SDE sampler on images, guided, in chunks of sample.batch_size.
  for (const std::string how : {"--solver dopri5 --atol 1e-3 --rtol 1e-3", "--solver rk4 --steps 2",
                                "--sde --eps 0.5 --set sample.sde.steps=3"}) {
    r = run_command(flowlab() + " sample " + run + " --n 6 --class 4 --guidance 2 " + how +
                    " --set sample.batch_size=4 --out " + dir.file("s.npy"));
    ASSERT_EQ(r.exit_code, 0) << how << "\n" << r.output;
    const std::string out = run_python("import numpy as np\nx = np.load('" + dir.file("s.npy") +
                                       "')\nprint(x.shape, bool(np.isfinite(x).all()))\n");
    EXPECT_NE(out.find("(6, 1, 28, 28) True"), std::string::npos) << how << "\n" << out;
  }

  // A feature classifier, and class_accuracy as the only evaluation (no distance metric).
  r = run_command(flowlab() + " train " + testing::source_dir() + "/configs/classifier/fashion_mnist_cnn.yaml" +
                  " --set run.dir=" + dir.path() + " run.name=cnn run.threads=1 train.steps=2 train.batch_size=8" +
                  " train.eval_every=0 model.channels=[4] model.hidden=8");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command(flowlab() + " eval " + run + " --n 20 --classes all --metrics class_accuracy --json " +
                  dir.file("e.json") + " --set sample.steps=2 eval.features.run=" + dir.path() + "/cnn");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const double accuracy = testing::json_value(read_file(dir.file("e.json")), "class_accuracy");
  EXPECT_GE(accuracy, 0.0);
  EXPECT_LE(accuracy, 1.0);
  // Without a feature network, class_accuracy is a config error naming the key.
  r = run_command(flowlab() + " eval " + run + " --n 20 --metrics class_accuracy");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("eval.metrics: class_accuracy needs eval.features"), std::string::npos) << r.output;

  // diagnose in d = 784: randomized asymmetry (no exact Jacobian) and loops, for one class.
  r = run_command(flowlab() + " diagnose " + run + " --class 3 --times 0.5 --points 4 --probes 2 --radii 0.1" +
                  " --loop-points 8 --id-points 0 --json " + dir.file("d.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string report = read_file(dir.file("d.json"));
  EXPECT_NE(report.find("asymmetry"), std::string::npos) << report;
  EXPECT_NE(report.find("784"), std::string::npos) << report;
}

}  // namespace
}  // namespace flowlab
