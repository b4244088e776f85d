//! `.xlsx` cells read by our own streaming XML reader, bounded by
//! construction.
//!
//! Parts are found the way Excel finds them: the workbook through the
//! package's `officeDocument` relationship, sheets, shared strings and
//! styles through the workbook's relationships, not by fixed names. Every
//! part is inflated through a meter that refuses one XML event (a tag, a
//! text, a CDATA section) longer than a cell may be and a total of inflated
//! bytes far beyond the file's size (several sheets sharing one part).
//! Everything kept (strings, style flags, cells, names) is charged against
//! the file's memory budget before it is stored; a shared string is stored
//! once and cells refer to it.

use std::cell::Cell as Flag;
use std::collections::HashMap;
use std::io::{BufReader, Cursor, Read};
use std::rc::Rc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::workbook::{builtin_is_date, format_is_date, Budget, Cell, Cells, CELL_BYTES};
use crate::config::Limits;
use crate::error::{FileError, FileErrorKind};
use crate::model::{col_letters, CellRef};

type Archive<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// What an `.xlsx` holds for the importers.
pub(crate) struct Book {
    pub sheets: Vec<(String, Cells)>,
    pub is_1904: bool,
}

fn corrupt(detail: impl Into<String>) -> FileError {
    FileError::new(FileErrorKind::Corrupt {
        format: "xlsx".into(),
        detail: detail.into(),
    })
}

/// Why the meter stopped a part.
#[derive(Clone, Copy)]
enum Trip {
    LongEvent,
    ReadOverAndOver,
}

/// Counts inflated bytes: per XML event and in all.
struct Meter {
    since_event: Flag<u64>,
    event_limit: u64,
    left: Flag<u64>,
    tripped: Flag<Option<Trip>>,
}

impl Meter {
    fn event_done(&self) {
        self.since_event.set(0);
    }

    /// The error for a failed read: the meter's reason when it tripped.
    fn error(&self, part: &str, e: impl std::fmt::Display, limits: &Limits) -> FileError {
        match self.tripped.get() {
            Some(Trip::LongEvent) => FileError::new(FileErrorKind::TooLarge {
                what: format!(
                    "a text cell or tag of more than {} bytes in {part}",
                    limits.max_field_bytes
                ),
                limit: limits.max_field_bytes as u64,
            }),
            Some(Trip::ReadOverAndOver) => corrupt(format!(
                "{part}: its parts are read over and over (several sheets share one part)"
            )),
            None => corrupt(format!("{part}: {e}")),
        }
    }
}

struct Metered<R> {
    inner: R,
    meter: Rc<Meter>,
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let m = &self.meter;
        let since = m.since_event.get().saturating_add(n as u64);
        m.since_event.set(since);
        if since > m.event_limit {
            m.tripped.set(Some(Trip::LongEvent));
            return Err(std::io::Error::other("an XML event is too long"));
        }
        match m.left.get().checked_sub(n as u64) {
            Some(left) => m.left.set(left),
            None => {
                m.tripped.set(Some(Trip::ReadOverAndOver));
                return Err(std::io::Error::other("too many bytes inflated"));
            }
        }
        Ok(n)
    }
}

type Xml<'a, 'b> = Reader<BufReader<Metered<zip::read::ZipFile<'a, Cursor<&'b [u8]>>>>>;

/// One part being read: its XML events, with the meter reset per event.
struct Part<'a, 'b> {
    name: String,
    xml: Xml<'a, 'b>,
    meter: Rc<Meter>,
    buf: Vec<u8>,
}

struct Ctx<'l> {
    limits: &'l Limits,
    meter: Rc<Meter>,
}

impl Ctx<'_> {
    /// The archive's entry for `name`, matched exactly or, as Excel does,
    /// ignoring case.
    fn find(&self, archive: &Archive<'_>, name: &str) -> Option<usize> {
        archive.index_for_name(name).or_else(|| {
            (0..archive.len()).find(|i| {
                matches!(archive.name_for_index(*i), Some(Ok(n)) if n.eq_ignore_ascii_case(name))
            })
        })
    }

    fn open<'a, 'b>(
        &self,
        archive: &'a mut Archive<'b>,
        index: usize,
    ) -> Result<Part<'a, 'b>, FileError> {
        let name = match archive.name_for_index(index) {
            Some(Ok(n)) => n.to_string(),
            _ => String::from("a part"),
        };
        let file = archive
            .by_index(index)
            .map_err(|e| corrupt(format!("{name}: {e}")))?;
        let metered = Metered {
            inner: file,
            meter: Rc::clone(&self.meter),
        };
        let mut xml = Reader::from_reader(BufReader::with_capacity(16 * 1024, metered));
        xml.config_mut().check_end_names = false;
        self.meter.event_done();
        Ok(Part {
            name,
            xml,
            meter: Rc::clone(&self.meter),
            buf: Vec::new(),
        })
    }
}

impl Part<'_, '_> {
    /// The next event; `None` at the end of the part.
    fn next(&mut self, limits: &Limits) -> Result<Option<Event<'_>>, FileError> {
        self.buf.clear();
        self.meter.event_done();
        match self.xml.read_event_into(&mut self.buf) {
            Ok(Event::Eof) => Ok(None),
            Ok(e) => Ok(Some(e)),
            Err(e) => Err(self.meter.error(&self.name, e, limits)),
        }
    }
}

/// An attribute's value by local name (`r:id` and `id` alike), unescaped.
fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find_map(|a| (a.key.local_name().as_ref() == local).then(|| unescaped(&a.value)))
}

fn unescaped(v: &str) -> String {
    if v.contains('&') {
        quick_xml::escape::unescape(v)
            .map(|v| v.into_owned())
            .unwrap_or_else(|_| v.to_string())
    } else {
        v.to_string()
    }
}

/// A cell's `r`, `s` and `t` attributes in one pass (the hot path).
fn cell_attrs(e: &BytesStart<'_>) -> (Option<String>, Option<String>, Option<String>) {
    let (mut r, mut s, mut t) = (None, None, None);
    for a in e.attributes().with_checks(false).flatten() {
        match a.key.local_name().as_ref() {
            "r" => r = Some(unescaped(&a.value)),
            "s" => s = Some(unescaped(&a.value)),
            "t" => t = Some(unescaped(&a.value)),
            _ => {}
        }
    }
    (r, s, t)
}

/// `target` of a relationship from the part `from`, as a zip entry name.
fn resolve(from: &str, target: &str) -> String {
    let target = target.replace('\\', "/");
    let mut parts: Vec<&str> = if let Some(abs) = target.strip_prefix('/') {
        abs.split('/').collect()
    } else {
        let dir = from.rsplit_once('/').map_or("", |(d, _)| d);
        dir.split('/').chain(target.split('/')).collect()
    };
    let mut out: Vec<&str> = Vec::with_capacity(parts.len());
    for p in parts.drain(..) {
        match p {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    out.join("/")
}

/// The relationships part of `part`: (id, type, resolved target).
fn rels_of(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

struct Rel {
    id: String,
    kind: String,
    target: String,
}

fn read_rels(
    ctx: &Ctx<'_>,
    archive: &mut Archive<'_>,
    source: &str,
    budget: &mut Budget,
) -> Result<Vec<Rel>, FileError> {
    let Some(i) = ctx.find(archive, &rels_of(source)) else {
        return Ok(Vec::new());
    };
    let mut part = ctx.open(archive, i)?;
    let mut rels = Vec::new();
    while let Some(ev) = part.next(ctx.limits)? {
        if let Event::Start(e) | Event::Empty(e) = ev {
            if e.local_name().as_ref() != "Relationship" {
                continue;
            }
            if attr(&e, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("External")) {
                continue;
            }
            let (Some(id), Some(kind), Some(target)) =
                (attr(&e, "Id"), attr(&e, "Type"), attr(&e, "Target"))
            else {
                continue;
            };
            budget.charge_text(id.len() + kind.len() + target.len() + source.len())?;
            let target = resolve(source, &target);
            rels.push(Rel { id, kind, target });
        }
    }
    Ok(rels)
}

fn rel_of_kind<'r>(rels: &'r [Rel], kind: &str) -> Option<&'r Rel> {
    rels.iter().find(|r| r.kind.ends_with(kind))
}

/// What the parts declare in all once unpacked (already checked against
/// its cap): each part read once stays within it, a part read for many
/// sheets does not.
fn declared_total(bytes: &[u8]) -> u64 {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return 0;
    };
    (0..archive.len())
        .filter_map(|i| archive.by_index_raw(i).ok().map(|f| f.size()))
        .fold(0u64, u64::saturating_add)
}

pub(crate) fn read(bytes: &[u8], limits: &Limits, budget: &mut Budget) -> Result<Book, FileError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(e.to_string()))?;
    let ctx = Ctx {
        limits,
        meter: Rc::new(Meter {
            since_event: Flag::new(0),
            // Room for the markup around a cell's longest text.
            event_limit: (limits.max_field_bytes as u64).saturating_add(64 * 1024),
            left: Flag::new(declared_total(bytes).saturating_add(1 << 20)),
            tripped: Flag::new(None),
        }),
    };
    let package = read_rels(&ctx, &mut archive, "", budget)?;
    let workbook = rel_of_kind(&package, "/officeDocument")
        .map(|r| r.target.clone())
        .unwrap_or_else(|| "xl/workbook.xml".into());
    let rels = read_rels(&ctx, &mut archive, &workbook, budget)?;
    let Some(wb_index) = ctx.find(&archive, &workbook) else {
        return Err(corrupt(format!("the workbook part {workbook} is missing")));
    };
    let (is_1904, sheet_list) = read_workbook(&ctx, &mut archive, wb_index, budget)?;
    let dir = workbook.rsplit_once('/').map_or("", |(d, _)| d);
    let part_of = |kind: &str, fallback: &str| {
        rel_of_kind(&rels, kind)
            .map(|r| r.target.clone())
            .unwrap_or_else(|| resolve(&format!("{dir}/x"), fallback))
    };
    let strings = match ctx.find(&archive, &part_of("/sharedStrings", "sharedStrings.xml")) {
        Some(i) => read_strings(&ctx, &mut archive, i, budget)?,
        None => Vec::new(),
    };
    let dates = match ctx.find(&archive, &part_of("/styles", "styles.xml")) {
        Some(i) => read_styles(&ctx, &mut archive, i, budget)?,
        None => Vec::new(),
    };
    let mut sheets = Vec::with_capacity(sheet_list.len());
    for (name, rid) in sheet_list {
        let target = rels.iter().find(|r| r.id == rid).map(|r| r.target.clone());
        let Some(index) = target.as_deref().and_then(|t| ctx.find(&archive, t)) else {
            return Err(corrupt(format!("sheet '{name}': its part is missing")));
        };
        let cells = read_sheet(&ctx, &mut archive, index, &name, &strings, &dates, budget)?;
        sheets.push((name, cells));
    }
    Ok(Book { sheets, is_1904 })
}

fn truthy(v: &str) -> bool {
    matches!(v.trim(), "1" | "true")
}

fn read_workbook(
    ctx: &Ctx<'_>,
    archive: &mut Archive<'_>,
    index: usize,
    budget: &mut Budget,
) -> Result<(bool, Vec<(String, String)>), FileError> {
    let mut part = ctx.open(archive, index)?;
    let mut is_1904 = false;
    let mut sheets = Vec::new();
    while let Some(ev) = part.next(ctx.limits)? {
        if let Event::Start(e) | Event::Empty(e) = ev {
            match e.local_name().as_ref() {
                "workbookPr" => is_1904 = attr(&e, "date1904").is_some_and(|v| truthy(&v)),
                "sheet" => {
                    let name = attr(&e, "name").unwrap_or_default();
                    let rid = attr(&e, "id").unwrap_or_default();
                    budget.charge_text(name.len() + rid.len())?;
                    sheets.push((name, rid));
                }
                _ => {}
            }
        }
    }
    Ok((is_1904, sheets))
}

/// Per cell format (`xf` of `cellXfs`), whether it shows dates.
fn read_styles(
    ctx: &Ctx<'_>,
    archive: &mut Archive<'_>,
    index: usize,
    budget: &mut Budget,
) -> Result<Vec<bool>, FileError> {
    let mut part = ctx.open(archive, index)?;
    let mut custom: HashMap<u32, bool> = HashMap::new();
    let mut dates = Vec::new();
    let mut in_cell_xfs = false;
    while let Some(ev) = part.next(ctx.limits)? {
        let opens = matches!(ev, Event::Start(_));
        match ev {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "numFmt" => {
                    let id = attr(&e, "numFmtId").and_then(|v| v.trim().parse::<u32>().ok());
                    if let Some(id) = id {
                        budget.charge(16)?;
                        let code = attr(&e, "formatCode").unwrap_or_default();
                        custom.insert(id, format_is_date(&code));
                    }
                }
                "cellXfs" => in_cell_xfs = opens,
                "xf" if in_cell_xfs => {
                    budget.charge(1)?;
                    let id = attr(&e, "numFmtId")
                        .and_then(|v| v.trim().parse::<u32>().ok())
                        .unwrap_or(0);
                    dates.push(
                        custom
                            .get(&id)
                            .copied()
                            .unwrap_or_else(|| builtin_is_date(id)),
                    );
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = false,
            _ => {}
        }
    }
    Ok(dates)
}

/// Excel's `_xHHHH_` escapes (characters XML cannot hold) decoded.
fn unescape_excel(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains("_x") {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("_x") {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let code = tail
            .get(2..6)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32);
        match code {
            Some(c) => {
                out.push(c);
                rest = tail.get(7..).unwrap_or("");
            }
            None => {
                out.push_str("_x");
                rest = tail.get(2..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

fn too_long(limits: &Limits) -> FileError {
    FileError::new(FileErrorKind::TooLarge {
        what: format!("a text cell of more than {} bytes", limits.max_field_bytes),
        limit: limits.max_field_bytes as u64,
    })
}

/// The text of a string item (`<si>`, `<is>`) up to its end tag: its `<t>`
/// runs joined (rich text), phonetic runs left out, each run trimmed
/// unless it preserves space. The joined length is checked as it grows.
fn read_string_item(
    part: &mut Part<'_, '_>,
    limits: &Limits,
    end: &str,
) -> Result<String, FileError> {
    enum Step {
        End,
        Phonetic(bool),
        Run { preserve: bool },
        Other,
    }
    let mut text = String::new();
    let mut phonetic = 0u32;
    loop {
        let step = match part.next(limits)? {
            None => return Err(corrupt(format!("{}: a string is cut off", part.name))),
            Some(Event::End(e)) if e.local_name().as_ref() == end => Step::End,
            Some(Event::Start(e)) if e.local_name().as_ref() == "rPh" => Step::Phonetic(true),
            Some(Event::End(e)) if e.local_name().as_ref() == "rPh" => Step::Phonetic(false),
            Some(Event::Start(e)) if e.local_name().as_ref() == "t" => Step::Run {
                preserve: e
                    .attributes()
                    .flatten()
                    .any(|a| a.key.as_ref() == "xml:space" && a.value.as_ref() == "preserve"),
            },
            Some(_) => Step::Other,
        };
        match step {
            Step::End => return Ok(text),
            Step::Phonetic(true) => phonetic = phonetic.saturating_add(1),
            Step::Phonetic(false) => phonetic = phonetic.saturating_sub(1),
            Step::Run { preserve } => {
                let mut run = String::new();
                loop {
                    match part.next(limits)? {
                        None => return Err(corrupt(format!("{}: a string is cut off", part.name))),
                        Some(Event::Text(t)) => run.push_str(&t.xml10_content()),
                        Some(Event::CData(t)) => run.push_str(&t.xml10_content()),
                        Some(Event::GeneralRef(r)) => push_ref(&mut run, &r)?,
                        Some(Event::End(e)) if e.local_name().as_ref() == "t" => break,
                        Some(_) => {}
                    }
                    if run.len() > limits.max_field_bytes {
                        return Err(too_long(limits));
                    }
                }
                if phonetic > 0 {
                    continue;
                }
                let run = if preserve {
                    run.as_str()
                } else {
                    run.trim_matches([' ', '\t', '\r', '\n'])
                };
                text.push_str(&unescape_excel(run));
                if text.len() > limits.max_field_bytes {
                    return Err(too_long(limits));
                }
            }
            Step::Other => {}
        }
    }
}

fn push_ref(out: &mut String, r: &quick_xml::events::BytesRef<'_>) -> Result<(), FileError> {
    let name: &str = r;
    if let Some(s) = quick_xml::escape::resolve_xml_entity(name) {
        out.push_str(s);
        return Ok(());
    }
    match r.resolve_char_ref() {
        Ok(Some(c)) => {
            out.push(c);
            Ok(())
        }
        _ => Err(corrupt(format!("an unknown entity &{name};"))),
    }
}

fn read_strings(
    ctx: &Ctx<'_>,
    archive: &mut Archive<'_>,
    index: usize,
    budget: &mut Budget,
) -> Result<Vec<Rc<str>>, FileError> {
    let mut part = ctx.open(archive, index)?;
    let mut strings: Vec<Rc<str>> = Vec::new();
    let mut claim: Option<u64> = None;
    enum Step {
        Claim(Option<u64>),
        Item,
        EmptyItem,
        Other,
    }
    loop {
        let step = match part.next(ctx.limits)? {
            None => break,
            // The claim as an XML reader sees it: the element's own
            // attribute, with any spacing, not text that looks like one.
            Some(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == "sst" => {
                Step::Claim(
                    attr(&e, "uniqueCount").map(|v| v.trim().parse::<u64>().unwrap_or(u64::MAX)),
                )
            }
            Some(Event::Start(e)) if e.local_name().as_ref() == "si" => Step::Item,
            Some(Event::Empty(e)) if e.local_name().as_ref() == "si" => Step::EmptyItem,
            Some(_) => Step::Other,
        };
        match step {
            Step::Claim(c) => claim = c,
            Step::Item | Step::EmptyItem => {
                if strings.len() as u64 >= ctx.limits.max_sheet_cells {
                    return Err(FileError::new(FileErrorKind::TooLarge {
                        what: format!(
                            "the shared string table (more than {} strings)",
                            ctx.limits.max_sheet_cells
                        ),
                        limit: ctx.limits.max_sheet_cells,
                    }));
                }
                let s = if matches!(step, Step::Item) {
                    read_string_item(&mut part, ctx.limits, "si")?
                } else {
                    String::new()
                };
                budget.charge_text(s.len())?;
                strings.push(Rc::from(s));
            }
            Step::Other => {}
        }
    }
    // A writer may round its claim; a claim beyond the real count that
    // would cost real memory is a lie.
    if let Some(claim) = claim {
        let held = strings.len() as u64;
        if claim > held.max(10_000) {
            return Err(corrupt(format!(
                "{} claims {claim} strings but holds {held}",
                part.name
            )));
        }
    }
    Ok(strings)
}

/// `A1` as 0-based (row, column); `None` when it is not a reference or
/// overflows.
fn cell_ref(r: &str) -> Option<(u32, u32)> {
    let letters = r.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
    let (col, row) = r.split_at(letters);
    if col.is_empty() || row.is_empty() || !row.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut c: u32 = 0;
    for b in col.bytes() {
        c = c
            .checked_mul(26)?
            .checked_add(u32::from(b.to_ascii_uppercase() - b'A') + 1)?;
    }
    let row: u32 = row.parse().ok()?;
    Some((row.checked_sub(1)?, c - 1))
}

fn error_value(v: &str) -> Option<&'static str> {
    Some(match v.trim() {
        "#DIV/0!" => "#DIV/0!",
        "#N/A" => "#N/A",
        "#NAME?" => "#NAME?",
        "#NULL!" => "#NULL!",
        "#NUM!" => "#NUM!",
        "#REF!" => "#REF!",
        "#VALUE!" => "#VALUE!",
        "#DATA!" | "#GETTING_DATA" => "#DATA!",
        _ => return None,
    })
}

/// The text of a `<v>` up to its end tag.
fn read_v(part: &mut Part<'_, '_>, limits: &Limits, v: &mut String) -> Result<(), FileError> {
    v.clear();
    loop {
        let ev = match part.next(limits)? {
            Some(ev) => ev,
            None => return Err(corrupt(format!("{}: a value is cut off", part.name))),
        };
        match ev {
            Event::Text(t) => v.push_str(&t.xml10_content()),
            Event::CData(t) => v.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => push_ref(v, &r)?,
            Event::End(e) if e.local_name().as_ref() == "v" => return Ok(()),
            _ => {}
        }
        if v.len() > limits.max_field_bytes {
            return Err(too_long(limits));
        }
    }
}

/// Skip to the end tag of `name`.
fn skip_to_end(part: &mut Part<'_, '_>, limits: &Limits, name: &str) -> Result<(), FileError> {
    let mut depth = 0u32;
    loop {
        match part.next(limits)? {
            None => return Ok(()),
            Some(Event::Start(e)) if e.local_name().as_ref() == name => depth += 1,
            Some(Event::End(e)) if e.local_name().as_ref() == name => {
                if depth == 0 {
                    return Ok(());
                }
                depth -= 1;
            }
            _ => {}
        }
    }
}

fn read_sheet(
    ctx: &Ctx<'_>,
    archive: &mut Archive<'_>,
    index: usize,
    name: &str,
    strings: &[Rc<str>],
    dates: &[bool],
    budget: &mut Budget,
) -> Result<Vec<(u32, u32, Cell)>, FileError> {
    let limits = ctx.limits;
    let mut part = ctx.open(archive, index)?;
    let bad = |detail: String| corrupt(format!("sheet '{name}': {detail}"));
    // A part without sheet data (a chart sheet, say) holds no cells.
    let mut any_element = false;
    loop {
        match part.next(limits)? {
            None if any_element => return Ok(Vec::new()),
            None => return Err(bad("its part holds no XML".into())),
            Some(Event::Start(e)) if e.local_name().as_ref() == "sheetData" => break,
            Some(Event::Start(_) | Event::Empty(_)) => any_element = true,
            Some(_) => {}
        }
    }
    let sheet_at = |row: u32, col: u32| CellRef {
        sheet: Some(name.into()),
        row: Some(row.saturating_add(1)),
        col: Some(col),
    };
    enum Step {
        Row(Option<String>),
        RowEnd,
        Done,
        Cell {
            at: Option<String>,
            style: Option<String>,
            typ: Option<String>,
        },
        Other,
    }
    enum Inner {
        End,
        Inline,
        Value,
        Skip(String),
        Other,
    }
    let mut cells: Vec<(u32, u32, Cell)> = Vec::new();
    // A value's text, reused from cell to cell.
    let mut v = String::new();
    let (mut row_i, mut col_i) = (0u32, 0u32);
    let (mut max_r, mut max_c) = (0u32, 0u32);
    loop {
        let step = match part.next(limits)? {
            None => return Err(bad("the sheet data is cut off".into())),
            Some(Event::Start(e)) => match e.local_name().as_ref() {
                "row" => Step::Row(attr(&e, "r")),
                "c" => {
                    let (at, style, typ) = cell_attrs(&e);
                    Step::Cell { at, style, typ }
                }
                _ => Step::Other,
            },
            Some(Event::End(e)) => match e.local_name().as_ref() {
                "row" => Step::RowEnd,
                "sheetData" => Step::Done,
                _ => Step::Other,
            },
            Some(_) => Step::Other,
        };
        let (at, style, typ) = match step {
            Step::Row(Some(r)) => {
                row_i = r
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .and_then(|r| r.checked_sub(1))
                    .ok_or_else(|| bad(format!("row number '{}' is not one", clip(&r))))?;
                continue;
            }
            Step::RowEnd => {
                row_i = row_i.saturating_add(1);
                col_i = 0;
                continue;
            }
            Step::Done => break,
            Step::Cell { at, style, typ } => (at, style, typ),
            Step::Row(None) | Step::Other => continue,
        };
        let (r, col) = match at {
            Some(at) => cell_ref(at.trim())
                .ok_or_else(|| bad(format!("cell reference '{}' is not one", clip(&at))))?,
            None => (row_i, col_i),
        };
        let mut value = Cell::Empty;
        loop {
            let inner = match part.next(limits)? {
                None => return Err(bad("a cell is cut off".into())),
                Some(Event::End(e)) if e.local_name().as_ref() == "c" => Inner::End,
                Some(Event::Start(e)) => match e.local_name().as_ref() {
                    "is" => Inner::Inline,
                    "v" if !matches!(typ.as_deref(), Some("inlineStr" | "is")) => Inner::Value,
                    other => Inner::Skip(other.to_string()),
                },
                Some(_) => Inner::Other,
            };
            match inner {
                Inner::End => break,
                Inner::Inline => {
                    let s = read_string_item(&mut part, limits, "is")?;
                    value = Cell::Text(Rc::from(s));
                }
                Inner::Value => {
                    read_v(&mut part, limits, &mut v)?;
                    value = cell_value(&v, typ.as_deref(), style.as_deref(), strings, dates)
                        .map_err(|d| {
                            FileError::at(
                                FileErrorKind::Corrupt {
                                    format: "xlsx".into(),
                                    detail: d,
                                },
                                sheet_at(r, col),
                            )
                        })?;
                }
                Inner::Skip(tag) => {
                    skip_to_end(&mut part, limits, &tag)?;
                    value = Cell::Empty;
                }
                Inner::Other => {}
            }
        }
        col_i = col.saturating_add(1);
        if matches!(value, Cell::Empty) {
            continue;
        }
        if r >= limits.max_sheet_rows || col >= limits.max_sheet_cols {
            return Err(FileError::at(
                FileErrorKind::TooLarge {
                    what: format!(
                        "a cell at row {}, column {}",
                        u64::from(r) + 1,
                        col_letters(col)
                    ),
                    limit: u64::from(limits.max_sheet_rows) * u64::from(limits.max_sheet_cols),
                },
                sheet_at(r, col),
            ));
        }
        if let Cell::Text(s) = &value {
            if s.len() > limits.max_field_bytes {
                return Err(FileError::at(
                    FileErrorKind::TooLarge {
                        what: format!("a cell of {} bytes", s.len()),
                        limit: limits.max_field_bytes as u64,
                    },
                    sheet_at(r, col),
                ));
            }
        }
        max_r = max_r.max(r);
        max_c = max_c.max(col);
        let area = (u64::from(max_r) + 1) * (u64::from(max_c) + 1);
        if area > limits.max_sheet_cells || cells.len() as u64 >= limits.max_sheet_cells {
            return Err(FileError::at(
                FileErrorKind::TooLarge {
                    what: format!(
                        "sheet '{name}' spanning A1:{}{} ({area} cells)",
                        col_letters(max_c),
                        u64::from(max_r) + 1
                    ),
                    limit: limits.max_sheet_cells,
                },
                sheet_at(r, col),
            ));
        }
        // A shared string is already paid for; a cell's own text is not.
        let own = match (&value, typ.as_deref()) {
            (Cell::Text(_), Some("s")) => 0,
            (Cell::Text(s) | Cell::IsoDate(s), _) => s.len(),
            _ => 0,
        };
        budget.charge(CELL_BYTES.saturating_add(own as u64))?;
        cells.push((r, col, value));
    }
    Ok(cells)
}

fn clip(s: &str) -> String {
    s.chars().take(20).collect()
}

/// A `<v>`'s value by the cell's type and style.
fn cell_value(
    v: &str,
    typ: Option<&str>,
    style: Option<&str>,
    strings: &[Rc<str>],
    dates: &[bool],
) -> Result<Cell, String> {
    let number = |v: &str| -> Option<f64> { v.trim().parse::<f64>().ok() };
    match typ {
        Some("s") => {
            if v.is_empty() {
                return Ok(Cell::Empty);
            }
            let i: usize = v.trim().parse().unwrap_or(0);
            strings
                .get(i)
                .map(|s| Cell::Text(Rc::clone(s)))
                .ok_or_else(|| format!("shared string {i} does not exist"))
        }
        Some("b") => match v.trim() {
            "" => Ok(Cell::Empty),
            "1" | "true" => Ok(Cell::Bool(true)),
            "0" | "false" => Ok(Cell::Bool(false)),
            _ => Err("a boolean cell holds something else".into()),
        },
        Some("d") => Ok(Cell::IsoDate(Rc::from(v))),
        Some("e") => error_value(v)
            .map(Cell::Error)
            .ok_or_else(|| "an error cell holds an unknown error".into()),
        Some("str") => Ok(Cell::Text(Rc::from(unescape_excel(v).as_ref()))),
        Some("n") | None => {
            if v.is_empty() {
                return Ok(Cell::Empty);
            }
            match number(v) {
                Some(n) => {
                    let is_date = match style {
                        Some(s) => dates
                            .get(s.trim().parse::<usize>().unwrap_or(0))
                            .copied()
                            .unwrap_or(false),
                        None => false,
                    };
                    Ok(if is_date {
                        Cell::Date(n)
                    } else {
                        Cell::Number(n)
                    })
                }
                None if typ.is_none() => Ok(Cell::Text(Rc::from(v))),
                None => Err("a number cell holds something else".into()),
            }
        }
        Some(_) => Err("a cell has an unknown type".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relationship_targets_resolve_like_paths() {
        assert_eq!(
            resolve("xl/workbook.xml", "worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve("xl/workbook.xml", "/xl/worksheets/s.xml"),
            "xl/worksheets/s.xml"
        );
        assert_eq!(resolve("xl/workbook.xml", "../data/s.xml"), "data/s.xml");
        assert_eq!(resolve("", "xl/workbook.xml"), "xl/workbook.xml");
        assert_eq!(rels_of("xl/workbook.xml"), "xl/_rels/workbook.xml.rels");
        assert_eq!(rels_of(""), "_rels/.rels");
    }

    #[test]
    fn cell_references_are_checked() {
        assert_eq!(cell_ref("A1"), Some((0, 0)));
        assert_eq!(cell_ref("XFD1048576"), Some((1_048_575, 16_383)));
        assert_eq!(cell_ref("A0"), None);
        assert_eq!(cell_ref("1A"), None);
        assert_eq!(cell_ref(&format!("{}1", "Z".repeat(40))), None);
        assert_eq!(cell_ref("A99999999999"), None);
    }

    #[test]
    fn excel_escapes_are_decoded() {
        assert_eq!(unescape_excel("a_x000D_b"), "a\rb");
        assert_eq!(unescape_excel("_x00"), "_x00");
        assert_eq!(unescape_excel("_xZZZZ_"), "_xZZZZ_");
    }
}
