// Collectives of an in-process Gloo group, and the gradient reducer: processes that each take
// their share of a batch end with the gradient of the whole batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <thread>
#include <vector>

#include "flowlab/core/error.h"
#include "flowlab/data/batch_shard.h"
#include "flowlab/distributed/gradient_reducer.h"
#include "flowlab/distributed/process_group.h"
#include "flowlab/train/flat_parameters.h"

namespace flowlab::distributed {
namespace {

constexpr std::chrono::milliseconds kTimeout{60000};

// Runs `body(rank)` in one thread per member of `groups`, rethrowing the first failure.
void side_by_side(std::size_t members, const std::function<void(int64_t)>& body) {
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(members);
  for (std::size_t rank = 0; rank < members; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        body(static_cast<int64_t>(rank));
      } catch (...) {
        errors[rank] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

bool have_gloo() {
  std::string why;
  return can_connect(torch::kCPU, &why);
}

TEST(ProcessGroup, SumMaxAndBroadcastOverThreeMembers) {
  if (!have_gloo()) GTEST_SKIP() << "built without Gloo";
  auto groups = in_process_group(3, kTimeout);
  ASSERT_EQ(groups.size(), 3u);
  std::vector<torch::Tensor> sums(3), maxima(3), broadcast(3);
  side_by_side(3, [&](int64_t rank) {
    ProcessGroup& g = *groups[rank];
    EXPECT_EQ(g.rank(), rank);
    EXPECT_EQ(g.size(), 3);
    EXPECT_EQ(g.backend(), "gloo");
    sums[rank] = torch::arange(5, torch::kFloat) * (rank + 1);
    g.all_reduce(sums[rank])->wait();
    maxima[rank] = torch::tensor({rank * 10, -rank}, torch::kLong);
    g.all_reduce(maxima[rank], ReduceOp::max)->wait();
    std::vector<torch::Tensor> values{torch::full({4}, static_cast<double>(rank))};
    g.broadcast(values, 0);
    broadcast[rank] = values[0];
    g.barrier();
  });
  for (int rank = 0; rank < 3; ++rank) {
    EXPECT_TRUE(torch::equal(sums[rank], torch::arange(5, torch::kFloat) * 6));
    EXPECT_TRUE(torch::equal(maxima[rank], torch::tensor({20, 0}, torch::kLong)));
    EXPECT_TRUE(torch::equal(broadcast[rank], torch::zeros({4})));
  }
}

// A small network with a parameter no loss uses (its gradient must come out zero, not hang).
struct Net : torch::nn::Module {
  Net() {
    a = register_module("a", torch::nn::Linear(3, 16));
    b = register_module("b", torch::nn::Linear(16, 16));
    c = register_module("c", torch::nn::Linear(16, 2));
    unused = register_parameter("unused", torch::ones({5}));
  }
  torch::Tensor forward(const torch::Tensor& x) { return c(torch::tanh(b(torch::tanh(a(x))))); }
  torch::nn::Linear a{nullptr}, b{nullptr}, c{nullptr};
  torch::Tensor unused;
};

std::shared_ptr<Net> copy_of(const Net& reference) {
  auto net = std::make_shared<Net>();
  torch::NoGradGuard no_grad;
  auto from = reference.parameters();
  auto to = net->parameters();
  for (std::size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
  return net;
}

torch::Tensor loss_of(Net& net, const torch::Tensor& x, const torch::Tensor& y) {
  return (net.forward(x) - y).pow(2).mean();
}

void expect_whole_batch_gradients(const ReducerOptions& options, int64_t expected_buckets) {
  torch::manual_seed(3);
  const Net reference;
  const torch::Tensor x = torch::randn({12, 3}), y = torch::randn({12, 2});
  auto groups = in_process_group(2, kTimeout);
  std::vector<std::shared_ptr<Net>> nets{copy_of(reference), copy_of(reference)};
  std::vector<std::unique_ptr<GradientReducer>> reducers;
  for (int64_t rank = 0; rank < 2; ++rank) {
    reducers.push_back(std::make_unique<GradientReducer>(*groups[rank], nets[rank]->parameters(), options));
  }
  EXPECT_EQ(reducers[0]->bucket_count(), expected_buckets);
  // One process, the whole batch.
  auto single = copy_of(reference);
  for (int step = 0; step < 2; ++step) {
    // The second step checks that the gradients are zeroed, not accumulated, between steps.
    const torch::Tensor xs = x * (step + 1), ys = y - step;
    single->zero_grad();
    loss_of(*single, xs, ys).backward();
    side_by_side(2, [&](int64_t rank) {
      const data::BatchShard shard{rank, 2};
      reducers[rank]->begin(rank == 1 && step == 1 ? 1.0F : 0.0F);
      loss_of(*nets[rank], shard.take(xs), shard.take(ys)).backward();
      reducers[rank]->finish();
    });
    const auto expected = single->named_parameters();
    for (int64_t rank = 0; rank < 2; ++rank) {
      for (const auto& p : nets[rank]->named_parameters()) {
        ASSERT_TRUE(p.value().grad().defined()) << p.key();
        if (p.key() == "unused") {
          // A parameter no loss uses: a zero gradient on every process.
          EXPECT_TRUE(torch::equal(p.value().grad(), torch::zeros({5})));
          continue;
        }
        EXPECT_TRUE(torch::allclose(p.value().grad(), expected[p.key()].grad(), 1e-5, 1e-7))
            << "rank " << rank << " parameter " << p.key() << " step " << step;
      }
      const auto got = nets[rank]->parameters();
      EXPECT_EQ(reducers[rank]->votes().item<float>(), step == 1 ? 1.0F : 0.0F);
      // The gradients lie end to end in one buffer: the fused optimizers use them as they are.
      EXPECT_TRUE(train::flat_view(train::gradients_of(got)).defined());
    }
  }
}

TEST(GradientReducer, OverlappedBucketsGiveTheWholeBatchGradient) {
  if (!have_gloo()) GTEST_SKIP() << "built without Gloo";
  ReducerOptions options;
  // 40 bytes first, then 400: four buckets ([c.bias], [c.weight, b.bias], [b.weight], [a, unused]),
  // launched in order as backward fills them.
  options.first_bucket_bytes = 40;
  options.bucket_bytes = 400;
  expect_whole_batch_gradients(options, 4);
}

TEST(GradientReducer, OneBucketAfterBackwardGivesTheSame) {
  if (!have_gloo()) GTEST_SKIP() << "built without Gloo";
  ReducerOptions options;
  options.overlap = false;
  expect_whole_batch_gradients(options, 1);
}

TEST(GradientReducer, RefusesMixedDtypes) {
  if (!have_gloo()) GTEST_SKIP() << "built without Gloo";
  auto groups = in_process_group(1, kTimeout);
  std::vector<torch::Tensor> params{torch::zeros({2}, torch::requires_grad()),
                                    torch::zeros({2}, torch::dtype(torch::kDouble).requires_grad(true))};
  EXPECT_THROW(GradientReducer(*groups[0], params), Error);
}

TEST(BatchShard, TakesEqualConsecutiveShares) {
  const torch::Tensor whole = torch::arange(12).reshape({6, 2});
  const data::BatchShard second{1, 3};
  EXPECT_TRUE(torch::equal(second.take(whole), torch::tensor({4, 5, 6, 7}).reshape({2, 2})));
  EXPECT_EQ(second.whole_size(2), 6);
  EXPECT_EQ(second.whole_sizes({2, 7}), (std::vector<int64_t>{6, 7}));
  EXPECT_TRUE(data::BatchShard{}.take(whole).is_same(whole));
  EXPECT_THROW(data::BatchShard({0, 4}).take(whole), c10::Error);
  EXPECT_FALSE(second.take(torch::Tensor()).defined());
}

}  // namespace
}  // namespace flowlab::distributed
