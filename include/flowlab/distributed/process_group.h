#pragma once
// The processes of a data-parallel run, as a c10d process group from PyTorch's own distributed
// engine: Gloo on the CPU, NCCL on CUDA. flowlab uses three collectives: a sum all-reduce
// (asynchronous, for gradient buckets and logged numbers; a max for checks), a broadcast (parameters at start)
// and a barrier. The c10d classes stay in the implementation: their base class changed from
// c10d::ProcessGroup (1.x) to c10d::Backend (2.x), and their headers need gloo's or nccl's.
#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flowlab/distributed/launch.h"

namespace flowlab::distributed {

enum class ReduceOp { sum, max };

/// A collective under way.
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  /// Blocks until it is done; throws Error when a process failed or the group timed out.
  virtual void wait() = 0;
};

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int64_t rank() const = 0;
  virtual int64_t size() const = 0;
  /// "gloo" or "nccl".
  virtual std::string backend() const = 0;
  /// Starts reducing `tensor` (dense, contiguous, on the group's device) in place over the processes.
  virtual std::unique_ptr<PendingCollective> all_reduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::sum) = 0;
  /// Rank `root`'s values of `tensors` in every process (in place; blocks).
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int64_t root) = 0;
  virtual void barrier() = 0;
};

/// Whether this build can make process groups on `device_type`'s devices (Gloo on the CPU,
/// NCCL on CUDA), and if not, why not.
bool can_connect(torch::DeviceType device_type, std::string* why_not = nullptr);

/// Joins the run's group: meets the other processes at MASTER_ADDR:MASTER_PORT (rank 0 hosts the
/// store, or torchrun's agent does) and connects Gloo (CPU) or NCCL (CUDA) for `device`. A process
/// that is missing, or a collective that does not finish, fails after `timeout` with Error.
std::unique_ptr<ProcessGroup> connect(const LaunchEnvironment& launch, const torch::Device& device,
                                      std::chrono::milliseconds timeout);

/// `size` members of one Gloo group inside this process (over an in-memory store), each to be
/// used from its own thread: tests and benchmarks of the collectives without launching processes.
std::vector<std::unique_ptr<ProcessGroup>> in_process_group(int64_t size, std::chrono::milliseconds timeout);

}  // namespace flowlab::distributed
