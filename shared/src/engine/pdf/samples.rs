//! Builders of small PDFs for tests, samples and the benchmark corpus. They write real PDFs with
//! correct cross-reference tables, so a reader has nothing to repair.

/// A PDF under construction: numbered objects, a catalog and a page tree.
#[derive(Debug, Clone)]
pub struct PdfBuilder {
    objects: Vec<Vec<u8>>,
    catalog_extra: String,
    pages: usize,
    marker: String,
    declared_count: Option<usize>,
    version: String,
}

impl PdfBuilder {
    /// A document with `pages` pages, each with a line of text containing `marker`.
    pub fn new(pages: usize, marker: &str) -> Self {
        PdfBuilder {
            objects: Vec::new(),
            catalog_extra: String::new(),
            pages,
            marker: marker.to_string(),
            declared_count: None,
            version: "1.7".into(),
        }
    }

    /// Adds an object; returns its number. Object numbers start after the fixed ones.
    pub fn object(&mut self, body: impl Into<Vec<u8>>) -> usize {
        self.objects.push(body.into());
        2 + 2 * self.pages + self.objects.len()
    }

    /// Adds a stream object with `dict` entries (without /Length) and raw `data`.
    pub fn stream(&mut self, dict: &str, data: &[u8]) -> usize {
        let mut body = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        self.object(body)
    }

    /// Adds entries to the catalog dictionary.
    pub fn catalog(mut self, entries: &str) -> Self {
        self.catalog_extra.push(' ');
        self.catalog_extra.push_str(entries);
        self
    }

    /// Makes the page tree declare a different /Count.
    pub fn declared_count(mut self, count: usize) -> Self {
        self.declared_count = Some(count);
        self
    }

    /// The number the next added object will get.
    pub fn next_object_number(&self) -> usize {
        3 + 2 * self.pages + self.objects.len()
    }

    /// Writes the file.
    pub fn build(&self) -> Vec<u8> {
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        let kids: Vec<String> = (0..self.pages)
            .map(|i| format!("{} 0 R", 3 + 2 * i))
            .collect();
        bodies
            .push(format!("<< /Type /Catalog /Pages 2 0 R{} >>", self.catalog_extra).into_bytes());
        bodies.push(
            format!(
                "<< /Type /Pages /Kids [{}] /Count {} >>",
                kids.join(" "),
                self.declared_count.unwrap_or(self.pages)
            )
            .into_bytes(),
        );
        for i in 0..self.pages {
            let content = format!(
                "BT /F1 12 Tf 72 720 Td ({} page {}) Tj ET",
                self.marker,
                i + 1
            );
            bodies.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {} 0 R >>",
                    4 + 2 * i
                )
                .into_bytes(),
            );
            bodies.push(
                format!(
                    "<< /Length {} >>\nstream\n{content}\nendstream",
                    content.len()
                )
                .into_bytes(),
            );
        }
        bodies.extend(self.objects.iter().cloned());
        write_pdf(
            &self.version,
            &bodies,
            "/Info << /Producer (intake test builder) >>",
        )
    }
}

/// A scan as a drop-box station makes it: `pages` pages, each one grey image (uncompressed, 120
/// × 170), different for every `seed`.
pub fn scan_pdf(pages: usize, seed: u64) -> Vec<u8> {
    const WIDTH: usize = 120;
    const HEIGHT: usize = 170;
    let mut bodies: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages).map(|i| format!("{} 0 R", 3 + 3 * i)).collect();
    bodies.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    bodies.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            kids.join(" ")
        )
        .into_bytes(),
    );
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for i in 0..pages {
        let (page, content, image) = (3 + 3 * i, 4 + 3 * i, 5 + 3 * i);
        bodies.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 {image} 0 R >> >> /Contents {content} 0 R >>"
            )
            .into_bytes(),
        );
        debug_assert_eq!(page, bodies.len());
        let draw = "q 595 0 0 842 0 0 cm /Im1 Do Q";
        bodies
            .push(format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len()).into_bytes());
        // Paper with lines of "text": white, with dark runs that differ per seed and page.
        let mut pixels = vec![0xF0u8; WIDTH * HEIGHT];
        for row in (10..HEIGHT - 10).step_by(6) {
            for column in 10..WIDTH - 10 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if state % 3 == 0 {
                    pixels[row * WIDTH + column] = 0x20;
                }
            }
        }
        let mut body = format!(
            "<< /Type /XObject /Subtype /Image /Width {WIDTH} /Height {HEIGHT} /ColorSpace /DeviceGray /BitsPerComponent 8 /Length {} >>\nstream\n",
            pixels.len()
        )
        .into_bytes();
        body.extend_from_slice(&pixels);
        body.extend_from_slice(b"\nendstream");
        bodies.push(body);
    }
    write_pdf(
        "1.7",
        &bodies,
        "/Info << /Producer (intake station scan) >>",
    )
}

/// Writes a complete PDF: `bodies[i]` becomes object `i + 1`, object 1 is the catalog, and
/// `trailer_extra` is added to the trailer. The cross-reference table is exact.
pub fn write_pdf(version: &str, bodies: &[Vec<u8>], trailer_extra: &str) -> Vec<u8> {
    let total: usize = bodies.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total + 64 * bodies.len() + 256);
    out.extend_from_slice(format!("%PDF-{version}\n%\u{e2}\u{e3}\u{cf}\u{d3}\n").as_bytes());
    let mut offsets = Vec::with_capacity(bodies.len());
    for (i, body) in bodies.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_at = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n", bodies.len() + 1).as_bytes());
    out.extend_from_slice(b"0000000000 65535 f \n");
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref_at}\n%%EOF\n",
            bodies.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A minimal valid PDF with `pages` pages and a text line on each. `marker` varies the bytes
/// (and so the hash) between samples.
pub fn minimal_pdf(pages: usize, marker: &str) -> Vec<u8> {
    PdfBuilder::new(pages, marker).build()
}

/// `base` with one incremental update appended: a new version of object 1 (the catalog)
/// carrying `/Lang`, a new xref section and a trailer pointing back with /Prev.
pub fn with_incremental_update(base: &[u8]) -> Vec<u8> {
    let prev = previous_startxref(base).unwrap_or(0);
    let size = trailer_size(base).unwrap_or(2);
    let mut out = base.to_vec();
    let at = out.len();
    out.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R /Lang (pl-PL) >>\nendobj\n");
    let xref_at = out.len();
    out.extend_from_slice(
        format!(
            "xref\n1 1\n{at:010} 00000 n \ntrailer\n<< /Size {size} /Root 1 0 R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n"
        )
        .as_bytes(),
    );
    out
}

fn previous_startxref(pdf: &[u8]) -> Option<usize> {
    let at = pdf.windows(9).rposition(|w| w == b"startxref")?;
    let rest = std::str::from_utf8(&pdf[at + 9..]).ok()?;
    rest.split_whitespace().next()?.parse().ok()
}

fn trailer_size(pdf: &[u8]) -> Option<usize> {
    let at = pdf.windows(5).rposition(|w| w == b"/Size")?;
    let rest = std::str::from_utf8(&pdf[at + 5..]).ok()?;
    rest.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_are_clean_multi_page_pdfs_that_differ_by_seed() {
        let scan = scan_pdf(3, 7);
        let verdict =
            crate::engine::pdf::inspect(&scan, &crate::engine::pdf::policy::PdfPolicy::default());
        assert!(verdict.findings.is_empty(), "{:?}", verdict.findings);
        assert_eq!(verdict.pages, Some(3));
        assert_ne!(scan, scan_pdf(3, 8));
    }
}
