#pragma once
// The ADM/DDPM U-Net for image fields x [B, C, H, W] (Ho et al. 2020; Dhariwal & Nichol 2021).
//
//   model:
//     type: unet
//     channels: 128               # width of the first level
//     channel_mult: [1, 2, 2, 2]  # level widths, channels * mult; every level but the last halves H, W
//     num_res_blocks: 2           # residual blocks per level (the decoder has one more per level)
//     attention_resolutions: [16] # feature-map sides (of H) with self-attention after each block
//     num_heads: 1                # attention heads, or
//     head_channels: 0            #   > 0: heads of this many channels (overrides num_heads)
//     dropout: 0.1                # before the second convolution of each residual block
//     groups: 32                  # GroupNorm groups (must divide every normalised width)
//     scale_shift: true           # ADM's h = norm(h) (1 + scale) + shift; false: DDPM's h + emb
//     resblock_updown: false      # down/up-sample inside residual blocks instead of (strided) convs
//     time_embedding: {dim: channels, ...}  # then Linear -> SiLU -> Linear to 4 * channels
//     num_classes: 0              # > 0: a class embedding (K + 1 rows, the last the null class) added
//
// Each residual block: GroupNorm -> SiLU -> conv 3x3, the embedding through SiLU -> Linear, a
// second GroupNorm -> SiLU -> dropout -> zero-initialised conv 3x3, a 1x1 conv on the skip where
// widths differ. Attention: GroupNorm -> 1x1 qkv -> softmax(q k^T / sqrt(d)) v per head ->
// zero-initialised 1x1 projection, added to its input. The output GroupNorm -> SiLU -> conv 3x3 is
// zero-initialised, so a new network predicts 0 for every field. With `channels: 128`,
// `channel_mult: [1, 2, 2, 2]`, `attention_resolutions: [16]`, `scale_shift: false` on 3 x 32 x 32
// it is DDPM's CIFAR-10 network (35,746,307 parameters).
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "flowlab/config/node.h"
#include "flowlab/nn/network.h"
#include "flowlab/nn/time_embedding.h"

namespace flowlab::nn {

struct UNetOptions {
  int64_t channels = 128;
  std::vector<int64_t> channel_mult{1, 2, 2, 2};
  int64_t num_res_blocks = 2;
  std::vector<int64_t> attention_resolutions{16};
  int64_t num_heads = 1;
  int64_t head_channels = 0;
  double dropout = 0.1;
  int64_t groups = 32;
  bool scale_shift = true;
  bool resblock_updown = false;
  TimeEmbeddingOptions time_embedding;  ///< dim defaults to `channels`
  int64_t num_classes = 0;
  /// Reads the keys above from a `model:` section.
  static UNetOptions read(config::Node& node);
};

/// One block of the U-Net: a residual block (reads the embedding), attention or a resampler.
class UNetBlock : public torch::nn::Module {
 public:
  /// Takes its input by value: a block may let it go once it is no longer needed.
  virtual torch::Tensor forward(torch::Tensor x, const torch::Tensor& embedding) = 0;
};

class UNet : public Network {
 public:
  /// For samples of `shape` {C, H, W}; `outputs` fields of C channels each.
  UNet(const UNetOptions& options, const SampleShape& shape, int64_t outputs = 1);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t,
                        const data::Condition& condition = {}) override;
  /// The middle block's output [B, C, H / 2^(levels - 1), W / 2^(levels - 1)].
  torch::Tensor features(const torch::Tensor& x, const torch::Tensor& t,
                         const data::Condition& condition = {}) override;

  /// Every width a GroupNorm of this U-Net normalises, for `in_channels` input channels and
  /// feature-map side `side` (config checks: `groups` must divide each).
  static std::vector<int64_t> normalised_widths(const UNetOptions& options, int64_t in_channels, int64_t side);

 private:
  using Stage = std::vector<std::shared_ptr<UNetBlock>>;  // blocks between two skip connections
  torch::Tensor run(const Stage& stage, torch::Tensor h, const torch::Tensor& embedding) const;
  /// The time (and class) embedding, and the encoder and middle block: the middle block's output
  /// and the skip connections.
  struct Encoded {
    torch::Tensor embedding, h;
    std::vector<torch::Tensor> skips;
  };
  Encoded encode(const torch::Tensor& x, const torch::Tensor& t, const data::Condition& condition);

  UNetOptions options_;
  std::shared_ptr<TimeEmbeddingImpl> time_features_;
  torch::nn::Linear time_in_{nullptr}, time_out_{nullptr};
  torch::nn::Embedding class_embedding_{nullptr};  // [num_classes + 1, 4 channels] when conditional
  torch::nn::Conv2d input_{nullptr};
  std::vector<Stage> encoder_, decoder_;  // each encoder stage's output is one skip connection
  Stage middle_;
  torch::nn::GroupNorm output_norm_{nullptr};
  torch::nn::Conv2d output_{nullptr};
};

}  // namespace flowlab::nn
