// Host tensors: construction, typed access, sharing, and their DLPack-layout views.
#include <pcv/error.hpp>
#include <pcv/memory.hpp>
#include <pcv/tensor.hpp>

#include <gtest/gtest.h>

namespace pcv {
namespace {

TEST(Tensor, ZeroFilledWithShapeAndDtype) {
  Tensor t(kFloat64, {2, 3});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(t.nbytes(), 48u);
  EXPECT_EQ(t.to_vector<double>(), std::vector<double>(6, 0.0));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw_data()) % 64, 0u);
}

TEST(Tensor, CopiesShareAndClonesDoNot) {
  Tensor a = Tensor::from<float>({2}, {1.f, 2.f});
  Tensor shared = a;
  Tensor cloned = a.clone();
  a.data<float>()[0] = 9.f;
  EXPECT_EQ(shared.data<float>()[0], 9.f);
  EXPECT_EQ(cloned.data<float>()[0], 1.f);
}

TEST(Tensor, RefusesWrongDtypeCountAndShape) {
  Tensor a = Tensor::from<float>({2}, {1.f, 2.f});
  EXPECT_THROW(a.data<double>(), Error);
  EXPECT_THROW((Tensor::from<float>({3}, {1.f, 2.f})), Error);
  EXPECT_THROW(Tensor(kFloat32, {2, -1}), Error);
}

TEST(Tensor, ViewHasDLPackFields) {
  Tensor t = Tensor::from<std::int64_t>({1, 2}, {5, 6});
  pcv_tensor v = t.view();
  EXPECT_EQ(v.data, t.raw_data());
  EXPECT_EQ(v.device.device_type, PCV_DEVICE_CPU);
  EXPECT_EQ(v.ndim, 2);
  EXPECT_EQ(v.dtype.code, PCV_DTYPE_INT);
  EXPECT_EQ(v.dtype.bits, 64);
  EXPECT_EQ(v.shape[1], 2);
  EXPECT_EQ(v.strides, nullptr);
  EXPECT_EQ(v.byte_offset, 0u);
}

TEST(Tensor, AbsentTensorIsUndefined) {
  EXPECT_FALSE(Tensor().defined());
  EXPECT_TRUE(Tensor(kFloat32, {}).defined());
}

}  // namespace
}  // namespace pcv

namespace pcv {
namespace {

// CUDA memory when the build and the machine have it; otherwise a clear error, never a crash.
TEST(TensorDevice, CudaAllocationWorksOrSaysWhyNot) {
  const pcv_device gpu{PCV_DEVICE_CUDA, 0};
  const std::uint64_t before = memory_stats().current_bytes;
  try {
    Tensor t = Tensor::empty_on(gpu, kFloat32, {256});
    EXPECT_EQ(t.device().device_type, PCV_DEVICE_CUDA);
    EXPECT_EQ(memory_stats().current_bytes, before + 1024);
    EXPECT_THROW(t.clone(), Error);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot allocate 1024 bytes on cuda:0: "), std::string::npos)
        << e.what();
    EXPECT_EQ(memory_stats().current_bytes, before);
  }
  EXPECT_EQ(memory_stats().current_bytes, before);
}

TEST(TensorMemory, AccountingTracksLiveAndPeakBytes) {
  reset_peak_memory();
  const std::uint64_t base = memory_stats().current_bytes;
  {
    Tensor a(kFloat64, {1000});
    EXPECT_EQ(memory_stats().current_bytes, base + 8000);
    {
      Tensor b(kFloat32, {500});
      EXPECT_EQ(memory_stats().current_bytes, base + 10000);
    }
    EXPECT_EQ(memory_stats().current_bytes, base + 8000);
  }
  EXPECT_EQ(memory_stats().current_bytes, base);
  EXPECT_GE(memory_stats().peak_bytes, base + 10000);
}

}  // namespace
}  // namespace pcv
