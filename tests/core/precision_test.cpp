// Precision scopes: bf16 autocast on the CPU (LibTorch supports it there too), nesting, the
// pause for backward and optimizer steps, and TF32 switches on CUDA.
#include "flowlab/core/precision.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <ATen/Context.h>

#include "flowlab/core/error.h"

namespace flowlab {
namespace {

torch::ScalarType product_dtype() { return torch::mm(torch::ones({4, 4}), torch::ones({4, 4})).scalar_type(); }

TEST(Precision, NamesRoundTripAndUnknownNamesSuggest) {
  for (const std::string& name : precision_names()) EXPECT_EQ(precision_name(precision_from_name(name)), name);
  try {
    precision_from_name("bf61");
    FAIL() << "bf61 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bf16"), std::string::npos) << e.what();
  }
}

TEST(Precision, Bf16AutocastsProductsOnTheCpuAndNestsAndPauses) {
  const torch::Device cpu(torch::kCPU);
  ASSERT_EQ(product_dtype(), torch::kFloat);
  ASSERT_FALSE(autocast_enabled(cpu));
  {
    const PrecisionScope outer(cpu, Precision::bf16);
    EXPECT_TRUE(autocast_enabled(cpu));
    EXPECT_EQ(product_dtype(), torch::kBFloat16);
    {
      const PrecisionScope inner(cpu, Precision::bf16);
      EXPECT_EQ(product_dtype(), torch::kBFloat16);
    }
    EXPECT_EQ(product_dtype(), torch::kBFloat16) << "an inner scope's end left the outer one on";
    {
      const AutocastPause pause(cpu);
      EXPECT_FALSE(autocast_enabled(cpu));
      EXPECT_EQ(product_dtype(), torch::kFloat);
    }
    EXPECT_EQ(product_dtype(), torch::kBFloat16);
    // Elementwise work keeps float32: only products and convolutions are cast.
    EXPECT_EQ((torch::ones({3}) * 2).scalar_type(), torch::kFloat);
  }
  EXPECT_FALSE(autocast_enabled(cpu));
  EXPECT_EQ(product_dtype(), torch::kFloat);
  {
    const PrecisionScope fp32(cpu, Precision::fp32);
    const PrecisionScope tf32(cpu, Precision::tf32);  // the CPU has no TF32: float32 products
    EXPECT_EQ(product_dtype(), torch::kFloat);
  }
}

TEST(Precision, Tf32SwitchesOnCudaAreSetAndRestored) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (this LibTorch or machine has none)";
  auto& context = at::globalContext();
  const bool cublas = context.allowTF32CuBLAS(), cudnn = context.allowTF32CuDNN();
  const torch::Device cuda(torch::kCUDA);
  {
    const PrecisionScope scope(cuda, Precision::tf32);
    EXPECT_TRUE(context.allowTF32CuBLAS());
    EXPECT_TRUE(context.allowTF32CuDNN());
    {
      const PrecisionScope fp32(cuda, Precision::fp32);
      EXPECT_FALSE(context.allowTF32CuBLAS());
      EXPECT_FALSE(context.allowTF32CuDNN());
    }
    EXPECT_TRUE(context.allowTF32CuBLAS());
  }
  EXPECT_EQ(context.allowTF32CuBLAS(), cublas);
  EXPECT_EQ(context.allowTF32CuDNN(), cudnn);
  {
    const PrecisionScope scope(cuda, Precision::bf16);
    const auto a = torch::ones({8, 8}, torch::Device(torch::kCUDA));
    EXPECT_EQ(torch::mm(a, a).scalar_type(), torch::kBFloat16);
  }
}

}  // namespace
}  // namespace flowlab
