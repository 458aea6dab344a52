//! Signature checks against one SHA-256 pass over the same file.
//!
//! `cargo run --release -p intake-shared --example bench_signatures -- SIGNED.pdf ANCHORS.pem`
//! (a 10 MB signed file: `python3 shared/src/engine/signature/fixtures/make-fixtures.py --bench OUT`).

use std::time::Instant;

use intake::engine::hashing::{DocumentHash, hash_with_checkpoints};
use intake::engine::signature::{
    TrustAnchors, check_pdf_signatures, check_pdf_signatures_resuming,
};

fn median_ms(runs: usize, mut work: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, anchors] = args.as_slice() else {
        return Err("usage: bench_signatures SIGNED.pdf ANCHORS.pem".into());
    };
    let bytes = std::fs::read(file)?;
    let anchors = TrustAnchors::from_pem(&std::fs::read(anchors)?)?;
    let report = check_pdf_signatures(&bytes, &anchors);
    println!("{}: {} bytes, {}", file, bytes.len(), report.summary());
    let hash = median_ms(21, || {
        std::hint::black_box(DocumentHash::of(&bytes));
    });
    let alone = median_ms(21, || {
        std::hint::black_box(check_pdf_signatures(&bytes, &anchors));
    });
    // As validate and intake validate run them: after the document's own hash, with its
    // checkpoints.
    let (_, checkpoints) = hash_with_checkpoints(&bytes);
    let resuming = median_ms(21, || {
        std::hint::black_box(check_pdf_signatures_resuming(
            &bytes,
            &anchors,
            Some(&checkpoints),
        ));
    });
    let checkpointed = median_ms(21, || {
        std::hint::black_box(hash_with_checkpoints(&bytes));
    });
    println!("SHA-256 of the file:                 {hash:.2} ms (median of 21)");
    println!("SHA-256 keeping checkpoints:         {checkpointed:.2} ms");
    println!(
        "signature checks, hashing again:     {alone:.2} ms, {:.2}x hashing",
        alone / hash
    );
    println!(
        "signature checks, resuming the hash: {resuming:.2} ms, {:.2}x hashing",
        resuming / hash
    );
    Ok(())
}
