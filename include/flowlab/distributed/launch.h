#pragma once
// What a launcher tells a process of a data-parallel run, through the environment: torchrun
// (`torchrun --no-python flowlab train ...`), SLURM or mpirun with a wrapper, or by hand. The
// contract is torchrun's: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT, and from
// torchrun's agent TORCHELASTIC_USE_AGENT_STORE (the agent hosts the rendezvous store),
// TORCHELASTIC_RESTART_COUNT and TORCHELASTIC_ERROR_FILE.
#include <cstdint>
#include <functional>
#include <string>

namespace flowlab::distributed {

struct LaunchEnvironment {
  int64_t rank = 0;
  int64_t world_size = 1;
  int64_t local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  /// torchrun's agent hosts the store: every rank connects as a client, under the prefix
  /// "/worker/attempt_<restart_count>".
  bool agent_store = false;
  int64_t restart_count = 0;
  /// Where a failing process writes its error as JSON for torchrun to report (empty: nowhere).
  std::string error_file;

  /// Whether this process is one of several.
  bool data_parallel() const { return world_size > 1; }
  /// "rank R of N" for messages.
  std::string describe() const;
};

/// The environment's variables, read through `lookup` (getenv by default). Throws ConfigError
/// naming the variable when one is malformed, out of range, or missing beside the others
/// (WORLD_SIZE > 1 needs RANK, MASTER_ADDR and MASTER_PORT).
LaunchEnvironment read_launch_environment(
    const std::function<const char*(const char*)>& lookup = nullptr);

/// Writes `message` to a TORCHELASTIC_ERROR_FILE in the JSON form torchrun reads
/// ({"message": ..., "timestamp": seconds}); does nothing for an empty `file`, never throws.
void write_error_file(const std::string& file, const std::string& message);

}  // namespace flowlab::distributed
