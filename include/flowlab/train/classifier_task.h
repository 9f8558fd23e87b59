#pragma once
// task: classifier — a network that predicts labels from x, trained by cross-entropy (optional
// label smoothing) on any labelled dataset, scored on held-out data by accuracy, NLL and
// expected calibration error. Its runs are what distillation and image metrics load as
// teachers and feature extractors (load_classifier).
//
//   task: classifier
//   data:  {type: fashion_mnist, split: train, shape: image}
//   model: {type: cnn, channels: [32, 64], norm: batch, hidden: 128, dropout: 0.25}   # or mlp
//   objective: {label_smoothing: 0.0}
//   eval:  {data: {...}, n: 10000, batch_size: 1000, bins: 15, use_ema: false}   (train/held_out.h)
#include <memory>
#include <optional>
#include <string>

#include "flowlab/config/node.h"
#include "flowlab/data/dataset.h"
#include "flowlab/nn/classifier.h"
#include "flowlab/train/classification.h"
#include "flowlab/train/held_out.h"
#include "flowlab/train/run.h"
#include "flowlab/train/task.h"

namespace flowlab::train {

class ClassifierTask : public Task {
 public:
  explicit ClassifierTask(Experiment& exp);
  std::vector<TrainedModule> modules() override;
  std::vector<TrainedOptimizer> optimizers() override;
  StepReport step(int64_t step, at::Generator& gen, GradientStep& update) override;
  /// accuracy, nll, ece (and points) on the held-out data.
  std::map<std::string, double> evaluate(uint64_t seed) override;
  /// The network evaluation uses (the EMA copy with eval.use_ema).
  std::shared_ptr<nn::Classifier> classifier() const { return held_out_->options().use_ema ? ema_ : network_; }
  const data::Dataset& data() const { return *data_; }

 private:
  Experiment& exp_;
  std::unique_ptr<data::Dataset> data_;
  std::unique_ptr<HeldOutData> held_out_;
  std::shared_ptr<nn::Classifier> network_, ema_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<LrSchedule> schedule_;
  double label_smoothing_ = 0.0;
};


/// A classifier run's network, loaded and in eval mode, with the data config it was trained on
/// (whose pixel range a user of its network must share).
struct LoadedClassifier {
  std::shared_ptr<nn::Classifier> network;
  config::Node data;
};

/// The classifier of a classifier run, for use inside another run (a distillation teacher, a
/// feature extractor). Throws Error when the run is not a classifier run or its checkpoint
/// cannot be read.
LoadedClassifier load_classifier(const TeacherOptions& teacher);

/// Config error at `node`.`key` unless `classifier` takes the points of `data` (built from
/// `data_config`) and, when `trained_on` is given, was trained on pixels of the same range.
void check_classifier_input(nn::Classifier& classifier, const data::Dataset& data, const config::Node& data_config,
                            const config::Node* trained_on, const config::Node& node, const std::string& key,
                            torch::Device device);

}  // namespace flowlab::train
