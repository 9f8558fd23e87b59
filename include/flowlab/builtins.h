#pragma once
// Registration of every built-in component, at the top of the library: it names every area,
// so it sits above them all (core depends on nothing above it).
namespace flowlab {

/// Registers every built-in component of every area. Safe to call any number of times and
/// from several threads: the first call registers, later calls do nothing.
void register_builtins();

}  // namespace flowlab
