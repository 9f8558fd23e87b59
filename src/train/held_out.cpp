#include "flowlab/train/held_out.h"

#include <torch/torch.h>

#include <algorithm>
#include <string>

namespace flowlab::train {
namespace {

ClassifierEvalOptions read_eval_options(config::Node& node) {
  ClassifierEvalOptions o;
  o.n = node.get<int64_t>("n", o.n, "held-out points scored (a finite set: its first n)");
  node.expect(o.n >= 1, "n", "an integer >= 1");
  o.batch_size = node.get<int64_t>("batch_size", o.batch_size, "points per forward pass");
  node.expect(o.batch_size >= 1, "batch_size", "an integer >= 1");
  o.bins = node.get<int64_t>("bins", o.bins, "confidence bins of the expected calibration error");
  node.expect(o.bins >= 1, "bins", "an integer >= 1");
  o.use_ema = node.get<bool>("use_ema", o.use_ema, "score the EMA copy of the weights");
  return o;
}

// Seeds of the held-out draws of endless datasets, offset from the evaluation seed.
constexpr uint64_t kHeldOutSeedOffset = 0xe7a1;


}  // namespace

HeldOutData::HeldOutData(config::Node& eval_node, config::Node& data_node, const data::Dataset& data)
    : data_(&data), options_(read_eval_options(eval_node)) {
  if (eval_node.has("data")) {
    config::Node held_out_node = eval_node.section("data", "the held-out data");
    held_out_ = data::dataset_registry().create(held_out_node);
    if (held_out_->num_classes() != data.num_classes() || held_out_->sample_shape() != data.sample_shape()) {
      held_out_node.fail("type", "the held-out data must have the training data's shape and classes");
    }
  } else if (std::optional<config::Node> test = data::test_split_config(data_node)) {
    // The dataset's own test split, with the training data's shape, range and classes.
    held_out_ = data::dataset_registry().create(*test);
  } else if (data.size() > 0) {
    eval_node.fail("data", "a finite dataset's own points are not held out: give eval.data (e.g. a second file)");
  }
}

std::pair<std::vector<torch::Tensor>, torch::Tensor> HeldOutData::logits(
    const std::vector<nn::Classifier*>& classifiers, uint64_t seed, torch::Device device) const {
  torch::NoGradGuard no_grad;
  std::vector<bool> was_training;
  for (nn::Classifier* c : classifiers) {
    was_training.push_back(c->is_training());
    c->eval();
  }
  const data::Dataset& from = held_out_ ? *held_out_ : *data_;
  const int64_t n = from.size() > 0 ? std::min(options_.n, from.size()) : options_.n;
  auto gen = data::make_generator(seed + kHeldOutSeedOffset);
  std::vector<std::vector<torch::Tensor>> chunks(classifiers.size());
  std::vector<torch::Tensor> labels;
  for (int64_t done = 0; done < n; done += options_.batch_size) {
    const int64_t count = std::min(options_.batch_size, n - done);
    const data::Batch batch = from.size() > 0 ? from.rows(done, done + count) : from.sample(count, gen);
    const torch::Tensor x = batch.x.to(device);
    for (std::size_t i = 0; i < classifiers.size(); ++i) chunks[i].push_back(classifiers[i]->forward(x).cpu());
    labels.push_back(batch.label.cpu());
  }
  std::vector<torch::Tensor> out;
  for (std::size_t i = 0; i < classifiers.size(); ++i) {
    classifiers[i]->train(was_training[i]);
    out.push_back(torch::cat(chunks[i]));
  }
  return {out, torch::cat(labels)};
}

ClassificationScores HeldOutData::score(nn::Classifier& classifier, uint64_t seed, torch::Device device) const {
  const auto [logits, labels] = this->logits({&classifier}, seed, device);
  return classification_scores(logits[0], labels, options_.bins);
}

}  // namespace flowlab::train
