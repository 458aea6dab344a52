//! Fuzzes the PDF engine: any bytes must give a verdict, never a panic, a hang or unbounded
//! memory. Run: `scripts/fuzz` (see the README).
#![no_main]

use intake::engine::pdf::policy::PdfPolicy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut policy = PdfPolicy::default();
    // Short budget: a slow input shows up as a timeout finding, not a stuck fuzzer.
    policy.limits.time_budget_ms = 2_000;
    let verdict = intake::engine::pdf::inspect(data, &policy);
    // A verdict must always say something about a file that is not accepted.
    if !verdict.is_accepted() {
        assert!(verdict.rejections().next().is_some());
    }
});
