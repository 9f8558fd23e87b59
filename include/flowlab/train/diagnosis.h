#pragma once
// A run's sampling model as the inputs of a diagnostics report (diagnostics/report.h).
#include <cstdint>

#include "flowlab/diagnostics/report.h"
#include "flowlab/train/experiment.h"

namespace flowlab::train {

/// The velocity of `model` on the run's path (and its score where the path gives one), points x_t of
/// the path, source and data draws, and the comparison of learned and conservative samples (from
/// `seed`, scored by the run's eval metrics). A class-conditional model is diagnosed for the one class
/// of exp.sample (with its guidance) or, with class_mode "none", for its unconditional field; the data
/// points are then of that class.
diagnostics::ReportInputs diagnosis_inputs(Experiment& exp, nn::Model& model, uint64_t seed);

}  // namespace flowlab::train
