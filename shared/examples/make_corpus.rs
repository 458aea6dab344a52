//! Writes the benchmark corpus: one file per class of document the engine must handle fast.
//! Usage: cargo run --release -p intake-shared --example make_corpus -- DIR
//!
//! - `small-form.pdf`: a two-page application form with filled fields (a few KB);
//! - `scan-50mb.pdf`: 108 pages, each a Flate-coded 1000x1000 grey page image of about 500 KB
//!   (1 MB decoded), as a scanning station writes lossless grey scans;
//! - `many-objects.pdf`: 12,000 pages with an annotation each: about 40,000 objects;
//! - `object-streams.pdf`: the same, saved by lopdf with object streams and an xref stream;
//! - `incremental-updates.pdf`: the form with 100 incremental updates appended.

use std::path::Path;

use intake::engine::pdf::samples::{PdfBuilder, with_incremental_update, write_pdf};

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: make_corpus DIR");
        std::process::exit(2);
    };
    let dir = Path::new(&dir);
    if let Err(e) = make(dir) {
        eprintln!("make_corpus: {e}");
        std::process::exit(1);
    }
}

fn make(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let form = small_form();
    std::fs::write(dir.join("small-form.pdf"), &form)?;
    std::fs::write(dir.join("scan-50mb.pdf"), scan(108))?;
    if std::env::var_os("MAKE_CORPUS_LARGE").is_some() {
        std::fs::write(dir.join("scan-100mb.pdf"), scan(216))?;
    }
    let many = many_objects(12_000);
    std::fs::write(dir.join("many-objects.pdf"), &many)?;
    let mut document = lopdf::Document::load_mem(&many)?;
    let mut out = Vec::new();
    let options = lopdf::SaveOptions::builder()
        .use_object_streams(true)
        .use_xref_streams(true)
        .build();
    document.save_with_options(&mut out, options)?;
    std::fs::write(dir.join("object-streams.pdf"), out)?;
    let mut updated = form;
    for _ in 0..100 {
        updated = with_incremental_update(&updated);
    }
    std::fs::write(dir.join("incremental-updates.pdf"), updated)?;
    Ok(())
}

fn small_form() -> Vec<u8> {
    let mut builder = PdfBuilder::new(2, "Wniosek o wydanie dowodu osobistego");
    let name = builder.object("<< /FT /Tx /T (imie) /V (Jan) /Rect [72 700 300 720] >>");
    let surname =
        builder.object("<< /FT /Tx /T (nazwisko) /V (Kowalski) /Rect [72 670 300 690] >>");
    let pesel = builder.object("<< /FT /Tx /T (pesel) /V (80010112345) /Rect [72 640 300 660] >>");
    builder
        .catalog(&format!(
            "/AcroForm << /Fields [{name} 0 R {surname} 0 R {pesel} 0 R] >> /Lang (pl-PL)"
        ))
        .build()
}

/// Deterministic noise for image data.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A grey page: a smooth background with paper grain, which compresses about 2:1 like a real
/// lossless scan.
fn page_image(seed: u64, side: usize) -> Vec<u8> {
    let grain = noise(seed, side * side);
    let mut pixels = Vec::with_capacity(side * side);
    for y in 0..side {
        for x in 0..side {
            let base = 160 + (x / 16 + y / 24) % 64;
            pixels.push((base as u8).wrapping_add(grain[y * side + x] & 0x03));
        }
    }
    pixels
}

/// A document of `pages` pages, each made of three objects: the page dictionary (given the
/// numbers of its two companions) and two companion objects.
fn paged(
    pages: usize,
    trailer: &str,
    page: impl Fn(usize, usize, usize) -> String,
    companions: impl Fn(usize) -> [Vec<u8>; 2],
) -> Vec<u8> {
    // 1 catalog, 2 page tree, then per page: page, first companion, second companion.
    let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(2 + 3 * pages);
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 3 + 3 * i)).collect();
    bodies.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    bodies.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
    );
    for i in 0..pages {
        let number = 3 + 3 * i;
        bodies.push(page(i, number + 1, number + 2).into_bytes());
        bodies.extend(companions(i));
    }
    write_pdf("1.7", &bodies, trailer)
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

fn scan(pages: usize) -> Vec<u8> {
    paged(
        pages,
        "/Info << /Producer (scanning station) >>",
        |_, content, image| {
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R /Resources << /XObject << /Im0 {image} 0 R >> >> >>"
            )
        },
        |i| {
            [
                stream("", b"q 595 0 0 842 0 0 cm /Im0 Do Q"),
                stream(
                    "/Type /XObject /Subtype /Image /Width 1000 /Height 1000 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
                    &deflate(&page_image(i as u64 + 1, 1000)),
                ),
            ]
        },
    )
}

fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
}

fn many_objects(pages: usize) -> Vec<u8> {
    paged(
        pages,
        "",
        |_, content, annotation| {
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R /Annots [{annotation} 0 R] >>"
            )
        },
        |i| {
            [
                stream(
                    "",
                    format!("BT /F1 10 Tf 72 720 Td (strona {i}) Tj ET").as_bytes(),
                ),
                format!(
                    "<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] /Contents (uwaga {i}) >>"
                )
                .into_bytes(),
            ]
        },
    )
}
