//! Writes a contract's text as a PDF (SPEC §2.9 "generateContract"): A4 pages, DejaVu Sans 10 pt,
//! lines wrapped at spaces to the page width, a new page when one is full. Lines starting with
//! `# ` are headings (DejaVu Sans Bold 13 pt).
//!
//! The fonts are embedded as subsets of the glyphs the document uses (CID fonts, `Identity-H`,
//! with a `ToUnicode` map so the text can be searched and copied): names and addresses in Latin,
//! Greek and Cyrillic scripts come out as written (Łukasz, Øresund, Ελένη, Ольга). A character
//! the fonts lack (CJK, for one) is written as `?`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, ObjectId, Stream, StringFormat, dictionary};
use subsetter::GlyphRemapper;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY_SIZE: f32 = 10.0;
const HEADING_SIZE: f32 = 13.0;
const FOOT_SIZE: f32 = 8.0;
const LEADING: f32 = 14.0;
/// Width of a line of text, in points.
const LINE_W: f32 = PAGE_W - 2.0 * MARGIN;

/// DejaVu Sans (Bitstream Vera licence, `fonts/LICENSE`).
static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold.
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// A font being embedded: the glyphs used so far, renumbered for the subset, with the character
/// each stands for and its advance (in thousandths of the font size).
struct Font {
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
    /// Name in the page resources (`F1`, `F2`).
    key: &'static str,
    glyphs: GlyphRemapper,
    /// Subset glyph id → (character, advance).
    used: BTreeMap<u16, (char, f32)>,
}

impl Font {
    fn new(data: &'static [u8], key: &'static str) -> Result<Font, String> {
        let face = ttf_parser::Face::parse(data, 0).map_err(|e| format!("font: {e}"))?;
        Ok(Font {
            data,
            face,
            key,
            glyphs: GlyphRemapper::new(),
            used: BTreeMap::new(),
        })
    }

    /// The glyph of `c` in the font (tabs as spaces), else the glyph of `?`, with the character
    /// it stands for.
    fn glyph(&self, c: char) -> (ttf_parser::GlyphId, char) {
        let c = if c == '\t' { ' ' } else { c };
        match self.face.glyph_index(c) {
            Some(g) => (g, c),
            None => (self.face.glyph_index('?').unwrap_or_default(), '?'),
        }
    }

    /// Advance of `c` in thousandths of the font size.
    fn advance(&self, c: char) -> f32 {
        let (g, _) = self.glyph(c);
        let units = f32::from(self.face.glyph_hor_advance(g).unwrap_or(0));
        units * 1000.0 / f32::from(self.face.units_per_em().max(1))
    }

    /// Width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size / 1000.0
    }

    /// `text` as the two-byte codes (subset glyph ids) of `Identity-H`, recording the glyphs.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (g, shown) = self.glyph(c);
            let advance = self.advance(shown);
            let cid = self.glyphs.remap(g.0);
            self.used.entry(cid).or_insert((shown, advance));
            out.extend_from_slice(&cid.to_be_bytes());
        }
        out
    }

    /// Adds the subset, its descriptor, widths and `ToUnicode` map to `doc`; returns the `Type0`
    /// font.
    fn embed(self, doc: &mut Document, tag: &str) -> Result<ObjectId, String> {
        let subset = subsetter::subset(self.data, 0, &self.glyphs)
            .map_err(|e| format!("font subset: {e}"))?;
        let family = self
            .face
            .names()
            .into_iter()
            .find(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
            .and_then(|n| n.to_string())
            .unwrap_or_else(|| "DejaVuSans".into());
        let name = format!("{tag}+{family}");
        let upem = f32::from(self.face.units_per_em().max(1));
        let scale = |v: i16| (f32::from(v) * 1000.0 / upem).round() as i64;
        let bbox = self.face.global_bounding_box();
        let mut file = Stream::new(dictionary! { "Length1" => subset.len() as i64 }, subset);
        file.compress().map_err(|e| e.to_string())?;
        let file_id = doc.add_object(file);
        let descriptor = doc.add_object(dictionary! {
            "Type" => "FontDescriptor",
            "FontName" => name.clone(),
            "Flags" => 32,
            "FontBBox" => vec![scale(bbox.x_min).into(), scale(bbox.y_min).into(),
                scale(bbox.x_max).into(), scale(bbox.y_max).into()],
            "ItalicAngle" => 0,
            "Ascent" => scale(self.face.ascender()),
            "Descent" => scale(self.face.descender()),
            "CapHeight" => scale(self.face.capital_height().unwrap_or(self.face.ascender())),
            "StemV" => 80,
            "FontFile2" => file_id,
        });
        let mut widths = Vec::new();
        for (cid, (_, advance)) in &self.used {
            widths.push(Object::Integer(i64::from(*cid)));
            widths.push(Object::Array(vec![Object::Real(*advance)]));
        }
        let cid_font = doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "CIDFontType2",
            "BaseFont" => name.clone(),
            "CIDSystemInfo" => dictionary! {
                "Registry" => Object::string_literal("Adobe"),
                "Ordering" => Object::string_literal("Identity"),
                "Supplement" => 0,
            },
            "FontDescriptor" => descriptor,
            "W" => widths,
            "CIDToGIDMap" => "Identity",
        });
        let mut to_unicode = Stream::new(dictionary! {}, to_unicode(&self.used).into_bytes());
        to_unicode.compress().map_err(|e| e.to_string())?;
        let to_unicode = doc.add_object(to_unicode);
        Ok(doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type0",
            "BaseFont" => name,
            "Encoding" => "Identity-H",
            "DescendantFonts" => vec![cid_font.into()],
            "ToUnicode" => to_unicode,
        }))
    }
}

/// The `ToUnicode` CMap of the subset glyphs `used` (glyph id → character).
fn to_unicode(used: &BTreeMap<u16, (char, f32)>) -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries: Vec<(&u16, &(char, f32))> = used.iter().collect();
    // At most 100 entries a block (PDF 32000-1, 9.10.3).
    for block in entries.chunks(100) {
        let _ = writeln!(cmap, "{} beginbfchar", block.len());
        for (cid, (c, _)) in block {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            let _ = writeln!(cmap, "<{cid:04X}> <{hex}>");
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

/// A PDF text string: UTF-16BE with its byte-order mark, so any character reads back.
fn text_string(text: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_be_bytes());
    }
    Object::String(bytes, StringFormat::Hexadecimal)
}

/// Splits a line into pieces no wider than `max` as `width` measures them, at spaces where it
/// can; a word wider than a line is split between characters.
fn wrap(line: &str, max: f32, width: impl Fn(&str) -> f32) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        let joined = if current.is_empty() {
            word.to_string()
        } else {
            format!("{current} {word}")
        };
        if width(&joined) <= max {
            current = joined;
            continue;
        }
        if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        for c in word.chars() {
            current.push(c);
            if width(&current) > max && current.chars().count() > 1 {
                current.pop();
                out.push(std::mem::replace(&mut current, c.to_string()));
            }
        }
    }
    out.push(current);
    out
}

/// The PDF of `text` (lines separated by `\n`) with the document title `title`. Errors: the PDF
/// writer's or the font subsetter's, as text.
pub fn render(title: &str, text: &str) -> Result<Vec<u8>, String> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut regular = Font::new(REGULAR, "F1")?;
    let mut bold = Font::new(BOLD, "F2")?;
    // Lay out (heading, text) lines into pages.
    let mut pages: Vec<Vec<(bool, String)>> = vec![Vec::new()];
    let mut y = PAGE_H - MARGIN;
    for raw in text.lines() {
        let (heading, body) = match raw.strip_prefix("# ") {
            Some(h) => (true, h),
            None => (false, raw),
        };
        let (font, size) = if heading {
            (&bold, HEADING_SIZE)
        } else {
            (&regular, BODY_SIZE)
        };
        for piece in wrap(body, LINE_W, |t| font.width(t, size)) {
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
        let mut show = |font: &mut Font, size: f32, x: f32, y: f32, line: &str| {
            ops.push(Operation::new("BT", vec![]));
            ops.push(Operation::new("Tf", vec![font.key.into(), size.into()]));
            ops.push(Operation::new("Td", vec![x.into(), y.into()]));
            ops.push(Operation::new(
                "Tj",
                vec![Object::String(font.encode(line), StringFormat::Hexadecimal)],
            ));
            ops.push(Operation::new("ET", vec![]));
        };
        let mut y = PAGE_H - MARGIN;
        for (heading, line) in lines {
            let (font, size, height) = if heading {
                (&mut bold, HEADING_SIZE, LEADING + 6.0)
            } else {
                (&mut regular, BODY_SIZE, LEADING)
            };
            y -= height;
            if !line.is_empty() {
                show(font, size, MARGIN, y, &line);
            }
        }
        // Page number at the foot.
        let foot = format!("{title} - page {} of {count}", n + 1);
        show(&mut regular, FOOT_SIZE, MARGIN, MARGIN / 2.0, &foot);
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
    let regular = regular.embed(&mut doc, "FPCTRA")?;
    let bold = bold.embed(&mut doc, "FPCTRB")?;
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => regular, "F2" => bold },
    });
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
        "Title" => text_string(title),
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
        let width = |t: &str| t.chars().count() as f32;
        let line = "word ".repeat(40);
        let pieces = wrap(line.trim(), 92.0, width);
        assert!(pieces.len() >= 2);
        assert!(pieces.iter().all(|p| p.chars().count() <= 92));
        assert_eq!(pieces.join(" "), line.trim());
        let long = "x".repeat(92 * 2 + 3);
        let pieces = wrap(&long, 92.0, width);
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.concat(), long);
    }

    #[test]
    fn text_reads_back_from_the_pdf() {
        let text = "# Rental contract\nCustomer: Zoë Müller, Æble ApS\nTotal €49.90 – 12 months\n\
                    Łukasz Wiśniewski, Ελένη Παπαδοπούλου, Ольга Иванова, 李\n"
            .to_string()
            + &"line\n".repeat(120);
        let pdf = render("Contract ord_1 Łódź", &text).unwrap();
        let doc = Document::load_mem(&pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 3, "120 lines need three pages");
        let page1 = doc.extract_text(&[1]).unwrap();
        for want in [
            "Rental contract",
            "Zoë Müller, Æble ApS",
            "€49.90 – 12 months",
            "Łukasz Wiśniewski, Ελένη Παπαδοπούλου, Ольга Иванова, ?",
            "Contract ord_1 Łódź - page 1 of 3",
        ] {
            assert!(page1.contains(want), "{want:?} missing from {page1}");
        }
        // Subsets, not whole fonts: the two fonts are 1.4 MB.
        assert!(pdf.len() < 60_000, "{} bytes", pdf.len());
    }

    #[test]
    fn lines_fit_the_page_width() {
        let font = Font::new(REGULAR, "F1").unwrap();
        let line = "Wąż ".repeat(60);
        let pieces = wrap(line.trim(), LINE_W, |t| font.width(t, BODY_SIZE));
        assert!(pieces.len() > 1);
        for p in &pieces {
            assert!(font.width(p, BODY_SIZE) <= LINE_W, "{p}");
        }
    }
}
