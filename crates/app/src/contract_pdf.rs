//! Writes a contract's text as a PDF (SPEC §2.9 "generateContract"): A4 pages, Helvetica 10 pt,
//! lines wrapped to the page width, a new page when one is full. Lines starting with `# ` are
//! headings (Helvetica-Bold 13 pt). The standard fonts are used with WinAnsiEncoding, so text is
//! written in Windows-1252: Latin scripts with their accents (ÆØÅ, é, ß, €) come out as written,
//! characters outside it as `?`.

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, StringFormat, dictionary};

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY_SIZE: f32 = 10.0;
const HEADING_SIZE: f32 = 13.0;
const LEADING: f32 = 14.0;
/// Characters per line at 10 pt within the margins (Helvetica averages ~0.5 em).
const WRAP: usize = 92;

/// Windows-1252 bytes of `text`; characters it lacks become `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c as u32 {
            0x20..=0x7E | 0xA0..=0xFF => c as u32 as u8,
            _ => match c {
                '€' => 0x80,
                '‚' => 0x82,
                '„' => 0x84,
                '…' => 0x85,
                '‘' => 0x91,
                '’' => 0x92,
                '“' => 0x93,
                '”' => 0x94,
                '•' => 0x95,
                '–' => 0x96,
                '—' => 0x97,
                '™' => 0x99,
                'Š' => 0x8A,
                'š' => 0x9A,
                'Ž' => 0x8E,
                'ž' => 0x9E,
                'Œ' => 0x8C,
                'œ' => 0x9C,
                'Ÿ' => 0x9F,
                '\t' => b' ',
                _ => b'?',
            },
        })
        .collect()
}

/// Splits a line into pieces of at most [`WRAP`] characters, at spaces where it can.
fn wrap(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let fits = current.chars().count() + 1 + word.chars().count() <= WRAP;
        if !current.is_empty() && !fits {
            out.push(std::mem::take(&mut current));
        }
        let mut word = word.to_string();
        while word.chars().count() > WRAP {
            let head: String = word.chars().take(WRAP).collect();
            word = word.chars().skip(WRAP).collect();
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            out.push(head);
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    out.push(current);
    out
}

/// The PDF of `text` (lines separated by `\n`) with the document title `title`. Errors: the PDF
/// writer's, as text.
pub fn render(title: &str, text: &str) -> Result<Vec<u8>, String> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = |name: &str| {
        dictionary! {
            "Type" => "Font",
            "Subtype" => "Type1",
            "BaseFont" => name.to_string(),
            "Encoding" => "WinAnsiEncoding",
        }
    };
    let regular = doc.add_object(font("Helvetica"));
    let bold = doc.add_object(font("Helvetica-Bold"));
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => regular, "F2" => bold },
    });
    // Lay out (font, size, text) lines into pages.
    let mut pages: Vec<Vec<(bool, String)>> = vec![Vec::new()];
    let mut y = PAGE_H - MARGIN;
    for raw in text.lines() {
        let (heading, body) = match raw.strip_prefix("# ") {
            Some(h) => (true, h),
            None => (false, raw),
        };
        for piece in wrap(body) {
            let height = if heading { LEADING + 6.0 } else { LEADING };
            if y - height < MARGIN {
                pages.push(Vec::new());
                y = PAGE_H - MARGIN;
            }
            y -= height;
            if let Some(page) = pages.last_mut() {
                page.push((heading, piece));
            }
        }
    }
    let mut kids = Vec::new();
    let count = pages.len();
    for (n, lines) in pages.into_iter().enumerate() {
        let mut ops = Vec::new();
        let mut y = PAGE_H - MARGIN;
        for (heading, line) in lines {
            let (font, size, height) = if heading {
                ("F2", HEADING_SIZE, LEADING + 6.0)
            } else {
                ("F1", BODY_SIZE, LEADING)
            };
            y -= height;
            if line.is_empty() {
                continue;
            }
            ops.push(Operation::new("BT", vec![]));
            ops.push(Operation::new("Tf", vec![font.into(), size.into()]));
            ops.push(Operation::new("Td", vec![MARGIN.into(), y.into()]));
            ops.push(Operation::new(
                "Tj",
                vec![Object::String(win_ansi(&line), StringFormat::Literal)],
            ));
            ops.push(Operation::new("ET", vec![]));
        }
        // Page number at the foot.
        let foot = format!("{title} - page {} of {count}", n + 1);
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new("Tf", vec!["F1".into(), 8.into()]));
        ops.push(Operation::new(
            "Td",
            vec![MARGIN.into(), (MARGIN / 2.0).into()],
        ));
        ops.push(Operation::new(
            "Tj",
            vec![Object::String(win_ansi(&foot), StringFormat::Literal)],
        ));
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }
            .encode()
            .map_err(|e| e.to_string())?;
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        });
        kids.push(Object::from(page_id));
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count as i64,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), PAGE_W.into(), PAGE_H.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    let info_id = doc.add_object(dictionary! {
        "Title" => Object::String(win_ansi(title), StringFormat::Literal),
        "Producer" => Object::string_literal("FlexPortal"),
    });
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("Info", info_id);
    doc.compress();
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_spaces_and_long_words_split() {
        let line = "word ".repeat(40);
        let pieces = wrap(line.trim());
        assert!(pieces.len() >= 2);
        assert!(pieces.iter().all(|p| p.chars().count() <= WRAP));
        assert_eq!(pieces.join(" "), line.trim());
        let long = "x".repeat(WRAP * 2 + 3);
        assert_eq!(wrap(&long).concat(), long);
    }

    #[test]
    fn text_reads_back_from_the_pdf() {
        let text = "# Rental contract\nCustomer: Zoë Müller, Æble ApS\nTotal €49.90 – 12 months\n"
            .to_string()
            + &"line\n".repeat(120);
        let pdf = render("Contract ord_1", &text).unwrap();
        let doc = Document::load_mem(&pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 3, "120 lines need three pages");
        let page1 = doc.extract_text(&[1]).unwrap();
        assert!(page1.contains("Rental contract"), "{page1}");
        assert!(page1.contains("Zoë Müller, Æble ApS"), "{page1}");
        assert!(page1.contains("€49.90"), "{page1}");
        assert_eq!(win_ansi("李"), b"?");
    }
}
