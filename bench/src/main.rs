//! The benchmark runner: prints Fengqiao's figures beside the ceilings in shared/LIMITS.md.
fn main() {}
