//! Writes `intake::engine::pdf::samples::minimal_pdf(PAGES, MARKER)` to a file (fixtures, demos).
//! Usage: cargo run -p intake-shared --example write_sample -- OUT [PAGES] [MARKER]

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: write_sample OUT [PAGES] [MARKER]");
        std::process::exit(2);
    };
    let pages = args.next().and_then(|p| p.parse().ok()).unwrap_or(1);
    let marker = args.next().unwrap_or_else(|| "sample".into());
    if let Err(e) = std::fs::write(
        &out,
        intake::engine::pdf::samples::minimal_pdf(pages, &marker),
    ) {
        eprintln!("{out}: {e}");
        std::process::exit(1);
    }
}
