#include "flowlab/nn/unet.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "flowlab/nn/mlp.h"

namespace flowlab::nn {
namespace {

// The architecture as a list of blocks, walked once by the constructor and once by the config
// checks, so both see the same widths.
struct BlockPlan {
  enum Kind { kResidual, kAttention, kDownsample, kUpsample } kind;
  int64_t in = 0, out = 0;
  int64_t resample = 0;  // residual blocks: -1 down, +1 up, 0 none
};
using StagePlan = std::vector<BlockPlan>;
struct Plan {
  std::vector<StagePlan> encoder, decoder;
  StagePlan middle;
};

// Without autograd (sampling, evaluation) nothing keeps a block's intermediates, so activations
// and sums overwrite tensors the block just made: fewer large buffers alive and allocated per
// forward. With autograd the out-of-place ops keep what backward needs.
bool may_overwrite() { return !torch::GradMode::is_enabled(); }

// silu(h), overwriting h (a tensor nothing else holds) when allowed.
torch::Tensor silu_of_fresh(torch::Tensor h) { return may_overwrite() ? torch::silu_(h) : torch::silu(h); }

// a + b, overwriting a (a tensor nothing else holds) when allowed.
torch::Tensor add_to_fresh(torch::Tensor a, const torch::Tensor& b) { return may_overwrite() ? a.add_(b) : a + b; }

bool has_attention(const UNetOptions& o, int64_t side) {
  return std::find(o.attention_resolutions.begin(), o.attention_resolutions.end(), side) !=
         o.attention_resolutions.end();
}

Plan make_plan(const UNetOptions& o, int64_t side) {
  Plan plan;
  int64_t width = o.channels;
  std::vector<int64_t> skips{width};  // widths of the encoder outputs the decoder concatenates
  const int64_t levels = static_cast<int64_t>(o.channel_mult.size());
  for (int64_t level = 0; level < levels; ++level) {
    const int64_t out = o.channels * o.channel_mult[level];
    for (int64_t b = 0; b < o.num_res_blocks; ++b) {
      StagePlan stage{{BlockPlan::kResidual, width, out}};
      if (has_attention(o, side)) stage.push_back({BlockPlan::kAttention, out, out});
      plan.encoder.push_back(stage);
      width = out;
      skips.push_back(width);
    }
    if (level + 1 < levels) {
      plan.encoder.push_back({o.resblock_updown ? BlockPlan{BlockPlan::kResidual, width, width, -1}
                                                : BlockPlan{BlockPlan::kDownsample, width, width}});
      skips.push_back(width);
      side /= 2;
    }
  }
  plan.middle = {{BlockPlan::kResidual, width, width},
                 {BlockPlan::kAttention, width, width},
                 {BlockPlan::kResidual, width, width}};
  for (int64_t level = levels - 1; level >= 0; --level) {
    const int64_t out = o.channels * o.channel_mult[level];
    for (int64_t b = 0; b <= o.num_res_blocks; ++b) {
      StagePlan stage{{BlockPlan::kResidual, width + skips.back(), out}};
      skips.pop_back();
      width = out;
      if (has_attention(o, side)) stage.push_back({BlockPlan::kAttention, width, width});
      if (level > 0 && b == o.num_res_blocks) {
        stage.push_back(o.resblock_updown ? BlockPlan{BlockPlan::kResidual, width, width, +1}
                                          : BlockPlan{BlockPlan::kUpsample, width, width});
        side *= 2;
      }
      plan.decoder.push_back(stage);
    }
  }
  return plan;
}

void zero_parameters(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) p.zero_();
}

torch::Tensor upsample(const torch::Tensor& x) {
  return torch::nn::functional::interpolate(
      x, torch::nn::functional::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
}

class ResidualBlock : public UNetBlock {
 public:
  ResidualBlock(const BlockPlan& plan, const UNetOptions& o)
      : scale_shift_(o.scale_shift), dropout_(o.dropout), resample_(plan.resample) {
    const int64_t embedding = 4 * o.channels;
    norm_in_ = register_module("norm_in", torch::nn::GroupNorm(o.groups, plan.in));
    conv_in_ = register_module("conv_in", torch::nn::Conv2d(torch::nn::Conv2dOptions(plan.in, plan.out, 3).padding(1)));
    embedding_ = register_module("embedding", torch::nn::Linear(embedding, (o.scale_shift ? 2 : 1) * plan.out));
    norm_out_ = register_module("norm_out", torch::nn::GroupNorm(o.groups, plan.out));
    conv_out_ = register_module("conv_out", torch::nn::Conv2d(torch::nn::Conv2dOptions(plan.out, plan.out, 3).padding(1)));
    zero_parameters(*conv_out_);  // the block starts as its skip connection
    if (plan.in != plan.out) {
      skip_ = register_module("skip", torch::nn::Conv2d(torch::nn::Conv2dOptions(plan.in, plan.out, 1)));
    }
  }

  torch::Tensor forward(torch::Tensor x, const torch::Tensor& embedding) override {
    torch::Tensor h = silu_of_fresh(norm_in_->forward(x));
    if (resample_ != 0) h = resample(h);
    // The input returns only in the skip connection. When that is a 1x1 convolution or a
    // downsampling (no larger than the input), it is computed now and the input let go of, so
    // a wide input (a decoder's concatenation) is not held through the block's convolutions.
    torch::Tensor skip;
    if (skip_ || resample_ < 0) {
      skip = resample_ != 0 ? resample(x) : x;
      if (skip_) skip = skip_->forward(skip);
      x = torch::Tensor();
    }
    h = conv_in_->forward(h);
    const torch::Tensor e = embedding_->forward(torch::silu(embedding)).unsqueeze(-1).unsqueeze(-1);
    if (scale_shift_) {
      const auto parts = e.chunk(2, 1);
      h = silu_of_fresh(may_overwrite() ? norm_out_->forward(h).mul_(1 + parts[0]).add_(parts[1])
                                        : norm_out_->forward(h) * (1 + parts[0]) + parts[1]);
    } else {
      h = silu_of_fresh(norm_out_->forward(add_to_fresh(h, e)));
    }
    h = conv_out_->forward(torch::dropout(h, dropout_, is_training()));
    if (!skip.defined()) skip = resample_ != 0 ? resample(x) : x;
    return add_to_fresh(h, skip);
  }

 private:
  torch::Tensor resample(const torch::Tensor& x) const {
    return resample_ > 0 ? upsample(x) : torch::avg_pool2d(x, 2);
  }
  bool scale_shift_;
  double dropout_;
  int64_t resample_;
  torch::nn::GroupNorm norm_in_{nullptr}, norm_out_{nullptr};
  torch::nn::Conv2d conv_in_{nullptr}, conv_out_{nullptr}, skip_{nullptr};
  torch::nn::Linear embedding_{nullptr};
};

class AttentionBlock : public UNetBlock {
 public:
  AttentionBlock(int64_t width, const UNetOptions& o)
      : heads_(o.head_channels > 0 ? width / o.head_channels : o.num_heads) {
    norm_ = register_module("norm", torch::nn::GroupNorm(o.groups, width));
    qkv_ = register_module("qkv", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, 3 * width, 1)));
    projection_ = register_module("projection", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, width, 1)));
    zero_parameters(*projection_);
  }

  torch::Tensor forward(torch::Tensor x, const torch::Tensor&) override {
    const int64_t batch = x.size(0), width = x.size(1), pixels = x.size(2) * x.size(3);
    const int64_t head_width = width / heads_;
    const auto qkv = qkv_->forward(norm_->forward(x)).reshape({batch, 3, heads_, head_width, pixels}).unbind(1);
    // q and k each scaled by d^(-1/4): the same logits as q k / sqrt(d), smaller intermediates.
    const double scale = 1.0 / std::sqrt(std::sqrt(static_cast<double>(head_width)));
    const torch::Tensor logits = torch::matmul((qkv[0] * scale).transpose(-1, -2), qkv[1] * scale);  // [B, h, L, L]
    const torch::Tensor weights = torch::softmax(logits, -1);
    const torch::Tensor mixed = torch::matmul(qkv[2], weights.transpose(-1, -2));  // [B, h, d, L]
    return add_to_fresh(projection_->forward(mixed.reshape(x.sizes())), x);
  }

 private:
  int64_t heads_;
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv2d qkv_{nullptr}, projection_{nullptr};
};

class Downsample : public UNetBlock {
 public:
  explicit Downsample(int64_t width) {
    conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, width, 3).stride(2).padding(1)));
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor&) override { return conv_->forward(x); }

 private:
  torch::nn::Conv2d conv_{nullptr};
};

class Upsample : public UNetBlock {
 public:
  explicit Upsample(int64_t width) {
    conv_ = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(width, width, 3).padding(1)));
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor&) override { return conv_->forward(upsample(x)); }

 private:
  torch::nn::Conv2d conv_{nullptr};
};

std::shared_ptr<UNetBlock> make_block(const BlockPlan& plan, const UNetOptions& o) {
  switch (plan.kind) {
    case BlockPlan::kResidual: return std::make_shared<ResidualBlock>(plan, o);
    case BlockPlan::kAttention: return std::make_shared<AttentionBlock>(plan.out, o);
    case BlockPlan::kDownsample: return std::make_shared<Downsample>(plan.out);
    case BlockPlan::kUpsample: return std::make_shared<Upsample>(plan.out);
  }
  return nullptr;
}

}  // namespace

UNetOptions UNetOptions::read(config::Node& node) {
  UNetOptions o;
  o.channels = node.get<int64_t>("channels", o.channels, "width of the first level");
  node.expect(o.channels >= 1, "channels", "an integer >= 1");
  o.channel_mult = node.get<std::vector<int64_t>>("channel_mult", o.channel_mult,
                                                  "level widths as multiples of channels; each level but the last "
                                                  "halves the feature map");
  bool positive = !o.channel_mult.empty();
  for (int64_t m : o.channel_mult) positive = positive && m >= 1;
  node.expect(positive, "channel_mult", "a non-empty list of integers >= 1");
  o.num_res_blocks = node.get<int64_t>("num_res_blocks", o.num_res_blocks, "residual blocks per level");
  node.expect(o.num_res_blocks >= 1, "num_res_blocks", "an integer >= 1");
  o.attention_resolutions = node.get<std::vector<int64_t>>(
      "attention_resolutions", o.attention_resolutions, "feature-map sides (in pixels) with self-attention");
  o.num_heads = node.get<int64_t>("num_heads", o.num_heads, "attention heads");
  node.expect(o.num_heads >= 1, "num_heads", "an integer >= 1");
  o.head_channels = node.get<int64_t>("head_channels", o.head_channels,
                                      "> 0: attention heads of this many channels (instead of num_heads)");
  node.expect(o.head_channels >= 0, "head_channels", "an integer >= 0");
  o.dropout = node.get<double>("dropout", o.dropout, "dropout in the residual blocks");
  node.expect(o.dropout >= 0 && o.dropout < 1, "dropout", "a number in [0, 1)");
  o.groups = node.get<int64_t>("groups", o.groups, "GroupNorm groups");
  node.expect(o.groups >= 1, "groups", "an integer >= 1");
  o.scale_shift = node.get<bool>("scale_shift", o.scale_shift,
                                 "ADM scale-shift conditioning norm(h) (1 + s) + b; false: DDPM's h + emb");
  o.resblock_updown = node.get<bool>("resblock_updown", o.resblock_updown,
                                     "resample inside residual blocks instead of strided/upsampling convs");
  config::Node embedding = node.section("time_embedding", "how t enters the network (dim: channels by default)");
  o.time_embedding = TimeEmbeddingOptions::read(embedding, o.channels);
  embedding.check_all_used();
  o.num_classes = node.get<int64_t>("num_classes", o.num_classes,
                                    "classes of a class-conditional network (a learned class embedding added to the "
                                    "time embedding, plus a null class); 0: unconditional; auto: the data's classes");
  node.expect(o.num_classes >= 0, "num_classes", "an integer >= 0 (or auto)");
  return o;
}

std::vector<int64_t> UNet::normalised_widths(const UNetOptions& options, int64_t in_channels, int64_t side) {
  (void)in_channels;  // the input convolution is not normalised
  const Plan plan = make_plan(options, side);
  std::vector<int64_t> widths{options.channels};  // the output norm
  auto add = [&widths](const std::vector<StagePlan>& stages) {
    for (const StagePlan& stage : stages) {
      for (const BlockPlan& b : stage) {
        if (b.kind == BlockPlan::kResidual) {
          widths.push_back(b.in);
          widths.push_back(b.out);
        } else if (b.kind == BlockPlan::kAttention) {
          widths.push_back(b.out);
        }
      }
    }
  };
  add(plan.encoder);
  add({plan.middle});
  add(plan.decoder);
  std::sort(widths.begin(), widths.end());
  widths.erase(std::unique(widths.begin(), widths.end()), widths.end());
  return widths;
}

UNet::UNet(const UNetOptions& options, const SampleShape& shape, int64_t outputs)
    : Network(outputs, options.num_classes), options_(options) {
  TORCH_CHECK(shape.size() == 3, "unet: samples must be images [C, H, W], got ", shape.size(), " dimensions");
  TORCH_CHECK(outputs >= 1, "unet: outputs must be >= 1, got ", outputs);
  const int64_t channels = shape[0], width = options.channels, embedding = 4 * options.channels;
  time_features_ = register_module("time_features", std::make_shared<TimeEmbeddingImpl>(options.time_embedding));
  time_in_ = register_module("time_in", torch::nn::Linear(time_features_->dim(), embedding));
  time_out_ = register_module("time_out", torch::nn::Linear(embedding, embedding));
  if (options.num_classes > 0) {
    class_embedding_ = register_module("class_embedding", torch::nn::Embedding(options.num_classes + 1, embedding));
  }
  input_ = register_module("input", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, width, 3).padding(1)));
  const Plan plan = make_plan(options, shape[1]);
  auto build = [&options, this](const std::vector<StagePlan>& stages, const std::string& name) {
    std::vector<Stage> built;
    torch::nn::ModuleList list;
    for (const StagePlan& stage_plan : stages) {
      Stage stage;
      torch::nn::ModuleList blocks;
      for (const BlockPlan& b : stage_plan) {
        stage.push_back(make_block(b, options));
        blocks->push_back(stage.back());
      }
      list->push_back(blocks);
      built.push_back(std::move(stage));
    }
    register_module(name, list);
    return built;
  };
  encoder_ = build(plan.encoder, "encoder");
  middle_ = build({plan.middle}, "middle").front();
  decoder_ = build(plan.decoder, "decoder");
  output_norm_ = register_module("output_norm", torch::nn::GroupNorm(options.groups, width));
  output_ = register_module("output",
                            torch::nn::Conv2d(torch::nn::Conv2dOptions(width, outputs * channels, 3).padding(1)));
  zero_parameters(*output_);  // every field starts at 0
}

torch::Tensor UNet::run(const Stage& stage, torch::Tensor h, const torch::Tensor& embedding) const {
  for (const auto& block : stage) h = block->forward(std::move(h), embedding);
  return h;
}

UNet::Encoded UNet::encode(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  TORCH_CHECK(x.dim() == 4 && t.dim() == 1 && t.size(0) == x.size(0), "unet: x [B, C, H, W] ", x.sizes(),
              " and t [B] ", t.sizes(), " expected");
  torch::Tensor embedding = time_out_->forward(torch::silu(time_in_->forward(time_features_->forward(t))));
  if (class_embedding_) {
    embedding = embedding + class_embedding_->forward(class_rows(condition, num_classes(), x.size(0), x.device()));
  } else {
    TORCH_CHECK(condition.empty(), "unet: labels given to an unconditional network (model.num_classes is 0)");
  }
  embedding = embedding.to(x.dtype());
  torch::Tensor h = input_->forward(x);
  std::vector<torch::Tensor> skips{h};
  for (const Stage& stage : encoder_) {
    h = run(stage, h, embedding);
    skips.push_back(h);
  }
  h = run(middle_, h, embedding);
  return Encoded{embedding, h, std::move(skips)};
}

torch::Tensor UNet::features(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  return encode(x, t, condition).h;
}

torch::Tensor UNet::forward(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition) {
  Encoded encoded = encode(x, t, condition);
  torch::Tensor h = std::move(encoded.h);
  std::vector<torch::Tensor>& skips = encoded.skips;
  for (const Stage& stage : decoder_) {
    // The stage owns its input: h and the skip are let go of before it runs.
    torch::Tensor input = torch::cat({h, skips.back()}, 1);
    h = torch::Tensor();
    skips.pop_back();
    h = run(stage, std::move(input), encoded.embedding);
  }
  return output_->forward(silu_of_fresh(output_norm_->forward(h)));
}

}  // namespace flowlab::nn
