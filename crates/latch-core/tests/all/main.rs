//! latch-core's integration tests, one test binary (each binary costs a link): the layering rule
//! (`layers`), parser properties (`properties`) and the engine's caches on a manual clock
//! (`caches`, on each engine through `latch_testkit`).

mod caches;
mod layers;
mod properties;
