#include "flowlab/distributed/process_group.h"

#include <torch/torch.h>

#include <exception>
#include <thread>

#include "flowlab/core/error.h"
#include "flowlab/core/log.h"
#include "flowlab/core/strings.h"

#if defined(FLOWLAB_WITH_GLOO) || defined(FLOWLAB_WITH_NCCL)
#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef FLOWLAB_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef FLOWLAB_WITH_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace flowlab::distributed {

bool can_connect(torch::DeviceType device_type, std::string* why_not) {
  std::string reason;
  if (device_type == torch::kCPU) {
#ifndef FLOWLAB_WITH_GLOO
    reason = "this flowlab was built without Gloo (data-parallel training on the CPU needs gloo's headers: "
             "Debian's libgloo-dev for Debian's LibTorch)";
#endif
  } else if (device_type == torch::kCUDA) {
#ifndef FLOWLAB_WITH_NCCL
    reason = "this flowlab was built without NCCL (data-parallel training on CUDA needs a CUDA LibTorch and nccl.h, "
             "from the nvidia-nccl wheel beside the torch wheel)";
#endif
  } else {
    reason = "data-parallel training runs on the CPU (Gloo) or CUDA (NCCL)";
  }
  if (why_not) *why_not = reason;
  return reason.empty();
}

#if defined(FLOWLAB_WITH_GLOO) || defined(FLOWLAB_WITH_NCCL)
namespace {

// What a failed collective means for the user: another process ended, or the group timed out.
[[noreturn]] void throw_collective_error(const std::string& what, int64_t rank, int64_t size,
                                         std::chrono::milliseconds timeout, const std::exception& e) {
  const std::string detail = dynamic_cast<const c10::Error*>(&e)
                                 ? static_cast<const c10::Error&>(e).what_without_backtrace()
                                 : e.what();
  throw Error(format("%s failed on rank %lld of %lld (another process of the run ended, or nothing came for %lld s): ",
                     what.c_str(), static_cast<long long>(rank), static_cast<long long>(size),
                     static_cast<long long>(timeout.count() / 1000)) +
              first_line(detail));
}

// One c10d backend class behind the interface. 1.x's ProcessGroupGloo/NCCL derive from
// c10d::ProcessGroup, 2.x's from c10d::Backend; their collectives have the same signatures.
template <class Backend>
class C10dGroup : public ProcessGroup {
 public:
  C10dGroup(c10::intrusive_ptr<Backend> backend, int64_t rank, int64_t size, std::string name,
            std::chrono::milliseconds timeout)
      : backend_(std::move(backend)), rank_(rank), size_(size), name_(std::move(name)), timeout_(timeout) {}

  int64_t rank() const override { return rank_; }
  int64_t size() const override { return size_; }
  std::string backend() const override { return name_; }

  std::unique_ptr<PendingCollective> all_reduce(torch::Tensor& tensor, ReduceOp op) override {
    std::vector<at::Tensor> tensors{tensor};
    c10d::AllreduceOptions options;
    options.reduceOp = op == ReduceOp::max ? c10d::ReduceOp(c10d::ReduceOp::MAX) : c10d::ReduceOp(c10d::ReduceOp::SUM);
    try {
      return std::make_unique<Pending<decltype(backend_->allreduce(tensors))>>(backend_->allreduce(tensors, options),
                                                                              this);
    } catch (const std::exception& e) {
      throw_collective_error("all-reduce", rank_, size_, timeout_, e);
    }
  }

  void broadcast(std::vector<torch::Tensor>& tensors, int64_t root) override {
    for (torch::Tensor& t : tensors) {
      std::vector<at::Tensor> one{t};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      try {
        backend_->broadcast(one, options)->wait();
      } catch (const std::exception& e) {
        throw_collective_error("broadcast", rank_, size_, timeout_, e);
      }
    }
  }

  void barrier() override {
    try {
      backend_->barrier()->wait();
    } catch (const std::exception& e) {
      throw_collective_error("barrier", rank_, size_, timeout_, e);
    }
  }

 private:
  template <class WorkPtr>
  class Pending : public PendingCollective {
   public:
    Pending(WorkPtr work, const C10dGroup* group) : work_(std::move(work)), group_(group) {}
    void wait() override {
      try {
        work_->wait();
      } catch (const std::exception& e) {
        throw_collective_error("all-reduce", group_->rank_, group_->size_, group_->timeout_, e);
      }
    }

   private:
    WorkPtr work_;
    const C10dGroup* group_;
  };

  c10::intrusive_ptr<Backend> backend_;
  int64_t rank_, size_;
  std::string name_;
  std::chrono::milliseconds timeout_;
};

#ifdef FLOWLAB_WITH_GLOO
std::unique_ptr<ProcessGroup> gloo_group(const c10::intrusive_ptr<c10d::Store>& store, int64_t rank, int64_t size,
                                         std::chrono::milliseconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  // GLOO_SOCKET_IFNAME picks the network interface, as in PyTorch; else the host's own address.
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface) {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  options->threads = 2;
  auto backend = c10::make_intrusive<c10d::ProcessGroupGloo>(store, static_cast<int>(rank), static_cast<int>(size),
                                                             options);
  return std::make_unique<C10dGroup<c10d::ProcessGroupGloo>>(std::move(backend), rank, size, "gloo", timeout);
}
#endif

#ifdef FLOWLAB_WITH_NCCL
std::unique_ptr<ProcessGroup> nccl_group(const c10::intrusive_ptr<c10d::Store>& store, int64_t rank, int64_t size,
                                         const torch::Device& device, std::chrono::milliseconds timeout) {
  c10::cuda::set_device(device.index());
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  auto backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, static_cast<int>(rank), static_cast<int>(size),
                                                             options);
  return std::make_unique<C10dGroup<c10d::ProcessGroupNCCL>>(std::move(backend), rank, size, "nccl", timeout);
}
#endif

}  // namespace
#endif

std::unique_ptr<ProcessGroup> connect(const LaunchEnvironment& launch, const torch::Device& device,
                                      std::chrono::milliseconds timeout) {
  std::string why_not;
  if (!can_connect(device.type(), &why_not)) throw Error(launch.describe() + ": " + why_not);
#if defined(FLOWLAB_WITH_GLOO) || defined(FLOWLAB_WITH_NCCL)
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(launch.master_port);
    // torchrun's agent hosts the store; otherwise rank 0 does.
    options.isServer = !launch.agent_store && launch.rank == 0;
    options.numWorkers = static_cast<std::size_t>(launch.world_size);
    options.timeout = timeout;
    store = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, options);
    if (launch.agent_store) {
      store = c10::make_intrusive<c10d::PrefixStore>("/worker/attempt_" + std::to_string(launch.restart_count), store);
    }
  } catch (const std::exception& e) {
    throw Error(format("%s: cannot meet the other processes at %s:%lld (MASTER_ADDR, MASTER_PORT) within %lld s: ",
                       launch.describe().c_str(), launch.master_addr.c_str(),
                       static_cast<long long>(launch.master_port), static_cast<long long>(timeout.count() / 1000)) +
                first_line(e.what()));
  }
  try {
#ifdef FLOWLAB_WITH_NCCL
    if (device.is_cuda()) return nccl_group(store, launch.rank, launch.world_size, device, timeout);
#endif
#ifdef FLOWLAB_WITH_GLOO
    return gloo_group(store, launch.rank, launch.world_size, timeout);
#endif
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(launch.describe() + ": cannot connect the process group: " + first_line(e.what()));
  }
#endif
  throw Error(launch.describe() + ": no process group backend for " + device.str());
}

std::vector<std::unique_ptr<ProcessGroup>> in_process_group(int64_t size, std::chrono::milliseconds timeout) {
  std::string why_not;
  if (!can_connect(torch::kCPU, &why_not)) throw Error(why_not);
  std::vector<std::unique_ptr<ProcessGroup>> groups(static_cast<std::size_t>(size));
#ifdef FLOWLAB_WITH_GLOO
  auto store = c10::make_intrusive<c10d::HashStore>();
  std::vector<std::exception_ptr> errors(groups.size());
  std::vector<std::thread> threads;
  // Each member's constructor waits for the others: they are made side by side.
  for (int64_t rank = 0; rank < size; ++rank) {
    threads.emplace_back([&, rank] {
      try {
        groups[rank] = gloo_group(store, rank, size, timeout);
      } catch (...) {
        errors[rank] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
#endif
  return groups;
}

}  // namespace flowlab::distributed
