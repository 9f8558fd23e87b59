#include "flowlab/builtins.h"

#include <mutex>

#include "flowlab/data/dataset.h"
#include "flowlab/data/source.h"
#include "flowlab/distill/distillation_objective.h"
#include "flowlab/nn/classifier.h"
#include "flowlab/nn/network.h"
#include "flowlab/objectives/coupling.h"
#include "flowlab/objectives/objective.h"
#include "flowlab/ot/metric.h"
#include "flowlab/paths/path.h"
#include "flowlab/solvers/solver.h"
#include "flowlab/train/optimizer.h"
#include "flowlab/train/task.h"

namespace flowlab {

void register_builtins() {
  static std::once_flag once;
  std::call_once(once, [] {
    data::register_builtin_datasets();
    data::register_builtin_sources();
    paths::register_builtin_paths();
    nn::register_builtin_networks();
    nn::register_builtin_classifiers();
    objectives::register_builtin_objectives();
    objectives::register_builtin_couplings();
    solvers::register_builtin_solvers();
    ot::register_builtin_metrics();
    distill::register_builtin_distillation_terms();
    train::register_builtin_training();
    train::register_builtin_tasks();
  });
}

}  // namespace flowlab
