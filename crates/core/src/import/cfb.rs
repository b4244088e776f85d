//! OLE2 compound files (the container of legacy `.xls`), read and written
//! by us.
//!
//! A container reader that trusts the file can be made to loop on a sector
//! chain until memory runs out, index past the allocation table, or (on
//! wasm32) overflow on a 64-bit stream size. Here every index is checked,
//! every chain is bounded by the number of sectors in the file, and nothing
//! is allocated beyond the file's own size. [`write_single_stream`] writes a
//! minimal, well-formed container (test files and fuzz targets).

use std::fmt;

const MAGIC: &[u8; 8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const HEADER_LEN: usize = 512;
const MAX_REGULAR: u32 = 0xFFFF_FFFA;
const DIFSECT: u32 = 0xFFFF_FFFC;
const FATSECT: u32 = 0xFFFF_FFFD;
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const FREESECT: u32 = 0xFFFF_FFFF;
const MINI_SECTOR: usize = 64;
const MINI_CUTOFF: u64 = 4096;
const DIR_ENTRY: usize = 128;

/// Why a compound file cannot be read. The text goes into the user's
/// "the xls file is damaged (...)" message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CfbError(pub String);

impl fmt::Display for CfbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, CfbError> {
    Err(CfbError(msg.into()))
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(s) => u16::from_le_bytes([s[0], s[1]]),
        None => 0,
    }
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    match b.get(off..off + 4) {
        Some(s) => u32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        None => FREESECT,
    }
}

/// One directory entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    /// 1 storage, 2 stream, 5 root.
    pub kind: u8,
    start: u32,
    pub size: u64,
}

/// An opened compound file: its allocation tables and directory, with the
/// file's bytes borrowed.
pub struct Compound<'a> {
    bytes: &'a [u8],
    sector: usize,
    /// Sectors present in the file (the last one may be short).
    sectors: u32,
    fat: Vec<u32>,
    mini_fat: Vec<u32>,
    mini_stream: Vec<u8>,
    entries: Vec<Entry>,
}

impl<'a> Compound<'a> {
    pub fn open(bytes: &'a [u8]) -> Result<Compound<'a>, CfbError> {
        if bytes.len() < HEADER_LEN || !bytes.starts_with(MAGIC) {
            return err("not an OLE2 compound file");
        }
        let sector = match u16_at(bytes, 30) {
            9 => 512,
            12 => 4096,
            s => return err(format!("unknown sector size 2^{s}")),
        };
        // A 4096-byte-sector file still has a 512-byte header, padded to
        // one sector.
        let body = bytes.len().saturating_sub(sector);
        let sectors = u32::try_from(body.div_ceil(sector)).unwrap_or(MAX_REGULAR);
        let mut c = Compound {
            bytes,
            sector,
            sectors,
            fat: Vec::new(),
            mini_fat: Vec::new(),
            mini_stream: Vec::new(),
            entries: Vec::new(),
        };
        c.load_fat()?;
        c.load_directory(u32_at(bytes, 48))?;
        let mini_fat_start = u32_at(bytes, 60);
        if mini_fat_start < MAX_REGULAR {
            let ids = c.chain(mini_fat_start)?;
            let mut mini_fat = Vec::with_capacity(ids.len() * sector / 4);
            for id in ids {
                mini_fat.extend(c.sector_u32s(id));
            }
            c.mini_fat = mini_fat;
        }
        if let Some(root) = c.entries.first().cloned() {
            // The mini stream lives in regular sectors, starting at the
            // root entry's first sector.
            if root.start < MAX_REGULAR && root.size > 0 {
                c.mini_stream = c.read_chain(root.start, root.size)?;
            }
        }
        Ok(c)
    }

    fn sector_bytes(&self, id: u32) -> &'a [u8] {
        let start = (id as usize + 1).saturating_mul(self.sector);
        let end = start.saturating_add(self.sector).min(self.bytes.len());
        self.bytes.get(start..end).unwrap_or(&[])
    }

    fn sector_u32s(&self, id: u32) -> impl Iterator<Item = u32> + 'a {
        self.sector_bytes(id)
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The FAT, from the header's DIFAT and the DIFAT sector chain. Only
    /// entries for sectors that exist are kept, so a file that lists one
    /// FAT sector many times cannot inflate the table.
    fn load_fat(&mut self) -> Result<(), CfbError> {
        let mut fat_sectors: Vec<u32> = (0..109)
            .map(|i| u32_at(self.bytes, 76 + 4 * i))
            .filter(|id| *id < MAX_REGULAR)
            .collect();
        let per_difat = self.sector / 4 - 1;
        let mut next = u32_at(self.bytes, 68);
        let mut hops = 0u32;
        while next < MAX_REGULAR {
            hops += 1;
            if hops > self.sectors || next >= self.sectors {
                return err("the sector allocation table's index (DIFAT) is damaged");
            }
            let ids: Vec<u32> = self.sector_u32s(next).collect();
            fat_sectors.extend(ids.iter().take(per_difat).filter(|id| **id < MAX_REGULAR));
            next = ids.get(per_difat).copied().unwrap_or(ENDOFCHAIN);
        }
        let need = self.sectors as usize;
        let mut fat = Vec::with_capacity(need.min(fat_sectors.len() * self.sector / 4));
        for id in fat_sectors {
            if fat.len() >= need {
                break;
            }
            if id >= self.sectors {
                return err(format!(
                    "the sector allocation table lists sector {id}, past the end of the file"
                ));
            }
            fat.extend(self.sector_u32s(id));
        }
        fat.truncate(need);
        self.fat = fat;
        Ok(())
    }

    /// The sector ids of a chain, refusing ids outside the file and
    /// chains longer than the file has sectors (a loop).
    fn chain(&self, start: u32) -> Result<Vec<u32>, CfbError> {
        let mut ids = Vec::new();
        let mut id = start;
        while id != ENDOFCHAIN {
            if id >= self.sectors || ids.len() >= self.sectors as usize {
                return err("a sector chain points past the end of the file or loops");
            }
            ids.push(id);
            id = match self.fat.get(id as usize) {
                Some(next) => *next,
                None => return err("a sector chain is missing from the allocation table"),
            };
            if id == FREESECT || id == FATSECT || id == DIFSECT {
                // Some writers end chains with a free marker; the data read
                // so far is what there is.
                break;
            }
        }
        Ok(ids)
    }

    /// `size` bytes of a regular-sector stream.
    fn read_chain(&self, start: u32, size: u64) -> Result<Vec<u8>, CfbError> {
        let ids = self.chain(start)?;
        let available = ids.len() as u64 * self.sector as u64;
        if size > available {
            return err(format!(
                "a stream declares {size} bytes but its sectors hold only {available}"
            ));
        }
        let size = size as usize;
        let mut out = Vec::with_capacity(size);
        for id in ids {
            let s = self.sector_bytes(id);
            let take = s.len().min(size - out.len());
            out.extend_from_slice(&s[..take]);
            if out.len() >= size {
                break;
            }
        }
        if out.len() < size {
            return err("a stream is cut short: the file is truncated");
        }
        Ok(out)
    }

    /// `size` bytes of a stream stored in the mini stream.
    fn read_mini_chain(&self, start: u32, size: u64) -> Result<Vec<u8>, CfbError> {
        let minis = self.mini_stream.len() / MINI_SECTOR;
        let size = size as usize;
        let mut out = Vec::with_capacity(size);
        let mut id = start;
        let mut hops = 0usize;
        while out.len() < size {
            if id == ENDOFCHAIN || id as usize >= minis || hops > minis {
                return err("a small stream's chain is damaged or truncated");
            }
            hops += 1;
            let at = id as usize * MINI_SECTOR;
            let s = self.mini_stream.get(at..at + MINI_SECTOR).unwrap_or(&[]);
            let take = s.len().min(size - out.len());
            out.extend_from_slice(&s[..take]);
            id = self
                .mini_fat
                .get(id as usize)
                .copied()
                .unwrap_or(ENDOFCHAIN);
        }
        Ok(out)
    }

    fn load_directory(&mut self, start: u32) -> Result<(), CfbError> {
        let ids = self.chain(start)?;
        let v3 = self.sector == 512;
        let mut entries = Vec::new();
        for id in ids {
            for raw in self.sector_bytes(id).chunks_exact(DIR_ENTRY) {
                let name_len = (u16_at(raw, 64) as usize).min(64);
                let units: Vec<u16> = raw[..name_len]
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .take_while(|u| *u != 0)
                    .collect();
                let name = String::from_utf16_lossy(&units);
                let low = u64::from(u32_at(raw, 120));
                // Version 3 files may leave garbage in the high half.
                let size = if v3 {
                    low
                } else {
                    low | (u64::from(u32_at(raw, 124)) << 32)
                };
                entries.push(Entry {
                    name,
                    kind: raw[66],
                    start: u32_at(raw, 116),
                    size,
                });
            }
        }
        if entries.first().is_none_or(|e| e.kind != 5) {
            return err("the directory has no root entry");
        }
        self.entries = entries;
        Ok(())
    }

    /// The stream entries (name, size), for messages and detection.
    pub fn streams(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.kind == 2)
    }

    pub fn has_stream(&self, name: &str) -> bool {
        self.streams().any(|e| e.name.eq_ignore_ascii_case(name))
    }

    /// A stream's bytes, or `None` when there is no such stream. Its
    /// declared size is checked against the file's size first.
    pub fn stream(&self, name: &str) -> Option<Result<Vec<u8>, CfbError>> {
        let e = self.streams().find(|e| e.name.eq_ignore_ascii_case(name))?;
        if e.size > self.bytes.len() as u64 {
            return Some(err(format!(
                "the {} stream declares {} bytes, more than the whole file",
                e.name, e.size
            )));
        }
        Some(if e.size < MINI_CUTOFF {
            self.read_mini_chain(e.start, e.size)
        } else {
            self.read_chain(e.start, e.size)
        })
    }
}

/// A minimal version-3 compound file holding one stream: header, the
/// stream's sectors, one directory sector, the FAT and (for streams over
/// ~7 MB) DIFAT sectors. The stream is padded to 4096 bytes so it never
/// goes to the mini stream.
pub fn write_single_stream(name: &str, data: &[u8]) -> Vec<u8> {
    const SECTOR: usize = 512;
    const PER_FAT: usize = SECTOR / 4;
    const PER_DIFAT: usize = PER_FAT - 1;
    let size = data.len().max(MINI_CUTOFF as usize);
    let data_sectors = size.div_ceil(SECTOR);
    // FAT and DIFAT sectors are counted in the FAT too: grow until stable.
    let (mut fat_n, mut difat_n) = (1usize, 0usize);
    loop {
        let total = data_sectors + 1 + fat_n + difat_n;
        let f = total.div_ceil(PER_FAT);
        let d = f.saturating_sub(109).div_ceil(PER_DIFAT);
        if f == fat_n && d == difat_n {
            break;
        }
        fat_n = f;
        difat_n = d;
    }
    let dir_id = data_sectors;
    let fat_first = dir_id + 1;
    let difat_first = fat_first + fat_n;
    let total = difat_first + difat_n;
    let id = |n: usize| u32::try_from(n).unwrap_or(ENDOFCHAIN);

    let mut out = Vec::with_capacity(HEADER_LEN + total * SECTOR);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(&0x003Eu16.to_le_bytes());
    out.extend_from_slice(&3u16.to_le_bytes());
    out.extend_from_slice(&0xFFFEu16.to_le_bytes());
    out.extend_from_slice(&9u16.to_le_bytes());
    out.extend_from_slice(&6u16.to_le_bytes());
    out.extend_from_slice(&[0u8; 6]);
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&id(fat_n).to_le_bytes());
    out.extend_from_slice(&id(dir_id).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(MINI_CUTOFF as u32).to_le_bytes());
    out.extend_from_slice(&ENDOFCHAIN.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let difat_start = if difat_n > 0 {
        id(difat_first)
    } else {
        ENDOFCHAIN
    };
    out.extend_from_slice(&difat_start.to_le_bytes());
    out.extend_from_slice(&id(difat_n).to_le_bytes());
    for i in 0..109 {
        let v = if i < fat_n {
            id(fat_first + i)
        } else {
            FREESECT
        };
        out.extend_from_slice(&v.to_le_bytes());
    }

    out.extend_from_slice(data);
    out.resize(HEADER_LEN + data_sectors * SECTOR, 0);

    let mut dir = [0u8; SECTOR];
    let mut entry = |slot: usize, name: &str, kind: u8, start: u32, size: u32| {
        let e = &mut dir[slot * DIR_ENTRY..(slot + 1) * DIR_ENTRY];
        let units: Vec<u16> = name.encode_utf16().take(31).collect();
        for (i, u) in units.iter().enumerate() {
            e[2 * i..2 * i + 2].copy_from_slice(&u.to_le_bytes());
        }
        e[64..66].copy_from_slice(&(((units.len() + 1) * 2) as u16).to_le_bytes());
        e[66] = kind;
        e[67] = 1;
        e[68..72].copy_from_slice(&FREESECT.to_le_bytes());
        e[72..76].copy_from_slice(&FREESECT.to_le_bytes());
        e[76..80].copy_from_slice(&FREESECT.to_le_bytes());
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..124].copy_from_slice(&size.to_le_bytes());
    };
    entry(0, "Root Entry", 5, ENDOFCHAIN, 0);
    entry(1, name, 2, 0, id(size));
    // The root's child is the stream (a one-node red-black tree).
    dir[76..80].copy_from_slice(&1u32.to_le_bytes());
    for slot in 2..4 {
        dir[slot * DIR_ENTRY + 68..slot * DIR_ENTRY + 80].fill(0xFF);
    }
    out.extend_from_slice(&dir);

    let mut fat = vec![FREESECT; fat_n * PER_FAT];
    for (i, slot) in fat.iter_mut().enumerate().take(data_sectors) {
        *slot = if i + 1 < data_sectors {
            id(i + 1)
        } else {
            ENDOFCHAIN
        };
    }
    fat[dir_id] = ENDOFCHAIN;
    for slot in &mut fat[fat_first..difat_first] {
        *slot = FATSECT;
    }
    for slot in &mut fat[difat_first..total] {
        *slot = DIFSECT;
    }
    for v in fat {
        out.extend_from_slice(&v.to_le_bytes());
    }

    let extra: Vec<u32> = (109..fat_n).map(|i| id(fat_first + i)).collect();
    for (k, chunk) in extra.chunks(PER_DIFAT).enumerate() {
        let mut s: Vec<u32> = chunk.to_vec();
        s.resize(PER_DIFAT, FREESECT);
        s.push(if k + 1 < difat_n {
            id(difat_first + k + 1)
        } else {
            ENDOFCHAIN
        });
        for v in s {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_containers_read_back() {
        for len in [0usize, 10, 4095, 4096, 5000, 70_000, 8_000_000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let file = write_single_stream("Workbook", &data);
            assert_eq!((file.len() - 512) % 512, 0);
            let c = Compound::open(&file).expect("open");
            let back = c.stream("Workbook").expect("present").expect("read");
            assert_eq!(&back[..len], &data[..], "len {len}");
            assert!(back[len..].iter().all(|b| *b == 0));
        }
    }

    #[test]
    fn calamine_reads_what_we_write() {
        // An empty BIFF8 globals substream: BOF, EOF.
        let mut s = Vec::new();
        s.extend_from_slice(&[0x09, 0x08, 16, 0, 0, 6, 5, 0]);
        s.extend_from_slice(&[0u8; 12]);
        s.extend_from_slice(&[0x0A, 0, 0, 0]);
        let file = write_single_stream("Workbook", &s);
        use calamine::Reader;
        let wb = calamine::Xls::new(std::io::Cursor::new(file));
        assert!(wb.is_ok());
    }

    #[test]
    fn looping_chain_is_refused_not_followed() {
        let mut file = write_single_stream("Workbook", &[1u8; 5000]);
        // FAT entry of sector 3 points back to sector 0.
        let fat_at = 512 + 512 * (5000usize.div_ceil(512) + 1);
        file[fat_at + 12..fat_at + 16].copy_from_slice(&0u32.to_le_bytes());
        let c = Compound::open(&file).expect("open");
        let r = c.stream("Workbook").expect("present");
        assert!(r.is_err());
    }
}
