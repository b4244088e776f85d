//! The OLE2 (compound file) quirks of the real legacy `.xls` exports.
//!
//! The real files are slightly off-standard in two ways, which strict
//! readers warn about (xlrd: "file size not 512 + multiple of sector size"
//! and "SSCS size is 0 but SSAT size is non-zero"):
//!
//! - a short-sector allocation table (MiniFAT) is allocated while the short
//!   stream (mini stream, held by the root entry) is empty;
//! - the file does not end on a sector boundary.
//!
//! xlwt writes a clean container (header, Workbook stream padded to 4 KiB,
//! FAT, directory), so this module appends a MiniFAT sector of free entries,
//! chains it in the FAT and the header, and then either cuts the file inside
//! that last sector ([`Tail::Truncated`]) or leaves slack bytes after it
//! ([`Tail::Slack`]). Both variants keep every stream intact; calamine 0.38
//! reads them (it tolerates a short last sector and ignores bytes past the
//! last chained sector).

const MAGIC: &[u8; 8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const SECTOR: usize = 512;
const HEADER: usize = 512;
const FREESECT: u32 = 0xFFFF_FFFF;
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const FATSECT: u32 = 0xFFFF_FFFD;
/// DIFAT entries that fit in the header.
const HEADER_DIFAT: usize = 109;

/// How the file ends after the added MiniFAT sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tail {
    /// Only the first `n` bytes of the last sector are present (`n` < 512).
    Truncated(usize),
    /// `n` bytes of zeros follow the last sector (`n` < 512).
    Slack(usize),
}

fn u32_at(b: &[u8], off: usize) -> Result<u32, String> {
    b.get(off..off + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| format!("file too short to read offset {off}"))
}

fn put_u32(b: &mut [u8], off: usize, v: u32) -> Result<(), String> {
    b.get_mut(off..off + 4)
        .ok_or_else(|| format!("file too short to write offset {off}"))?
        .copy_from_slice(&v.to_le_bytes());
    Ok(())
}

fn sector_offset(id: u32) -> usize {
    HEADER + id as usize * SECTOR
}

/// Adds the MiniFAT-without-mini-stream and the off-boundary end to a clean
/// compound file as written by xlwt.
pub(crate) fn add_quirks(mut b: Vec<u8>, tail: Tail) -> Result<Vec<u8>, String> {
    if b.len() < HEADER + SECTOR || b.get(..8) != Some(&MAGIC[..]) {
        return Err("not an OLE2 compound file".into());
    }
    if !(b.len() - HEADER).is_multiple_of(SECTOR) {
        return Err(format!("length {} is not 512 + k * 512", b.len()));
    }
    if b.get(30..32) != Some(&[9, 0][..]) {
        return Err("sector size is not 512".into());
    }
    if u32_at(&b, 60)? != ENDOFCHAIN || u32_at(&b, 64)? != 0 {
        return Err("a MiniFAT is already present".into());
    }
    if u32_at(&b, 68)? != ENDOFCHAIN {
        return Err("DIFAT sectors beyond the header are not handled".into());
    }
    // The root entry (first directory entry) owns the mini stream: it must
    // be empty for the quirk to be the real one.
    let root = sector_offset(u32_at(&b, 48)?);
    if u32_at(&b, root + 116)? != ENDOFCHAIN || u32_at(&b, root + 120)? != 0 {
        return Err("the mini stream is not empty".into());
    }

    let sectors = ((b.len() - HEADER) / SECTOR) as u32;
    let fat_count = u32_at(&b, 44)? as usize;
    let mut fat_ids = Vec::with_capacity(fat_count);
    for i in 0..fat_count.min(HEADER_DIFAT) {
        fat_ids.push(u32_at(&b, 76 + 4 * i)?);
    }

    let entries_per_fat = (SECTOR / 4) as u32;
    let minifat_id = if (sectors / entries_per_fat) as usize >= fat_ids.len() {
        // Every FAT entry is used: add a FAT sector first, describing
        // itself and the MiniFAT sector after it.
        if fat_ids.len() >= HEADER_DIFAT {
            return Err("no room for another FAT sector in the header".into());
        }
        let fat_id = sectors;
        let mut fat = vec![0xFFu8; SECTOR];
        put_u32(&mut fat, 0, FATSECT)?;
        put_u32(&mut fat, 4, ENDOFCHAIN)?;
        b.extend_from_slice(&fat);
        put_u32(&mut b, 76 + 4 * fat_ids.len(), fat_id)?;
        put_u32(&mut b, 44, fat_ids.len() as u32 + 1)?;
        fat_id + 1
    } else {
        let fat_sector = fat_ids[(sectors / entries_per_fat) as usize];
        let at = sector_offset(fat_sector) + 4 * (sectors % entries_per_fat) as usize;
        if u32_at(&b, at)? != FREESECT {
            return Err(format!("FAT entry of sector {sectors} is not free"));
        }
        put_u32(&mut b, at, ENDOFCHAIN)?;
        sectors
    };

    // The MiniFAT: one sector of free entries, describing an empty stream.
    b.extend_from_slice(&[0xFF; SECTOR]);
    put_u32(&mut b, 60, minifat_id)?;
    put_u32(&mut b, 64, 1)?;

    match tail {
        Tail::Truncated(n) if n > 0 && n < SECTOR => b.truncate(b.len() - (SECTOR - n)),
        Tail::Slack(n) if n > 0 && n < SECTOR => b.resize(b.len() + n, 0),
        t => return Err(format!("{t:?} must keep the end off a sector boundary")),
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal clean container: header, one data sector, one FAT sector,
    /// one directory sector.
    fn clean(data_sectors: u32) -> Vec<u8> {
        let n = data_sectors + 2;
        let mut b = vec![0u8; HEADER + n as usize * SECTOR];
        b[..8].copy_from_slice(MAGIC);
        b[30] = 9;
        b[32] = 6;
        let fat_id = data_sectors;
        let dir_id = data_sectors + 1;
        put_u32(&mut b, 44, 1).unwrap();
        put_u32(&mut b, 48, dir_id).unwrap();
        put_u32(&mut b, 60, ENDOFCHAIN).unwrap();
        put_u32(&mut b, 68, ENDOFCHAIN).unwrap();
        for i in 0..HEADER_DIFAT {
            put_u32(&mut b, 76 + 4 * i, FREESECT).unwrap();
        }
        put_u32(&mut b, 76, fat_id).unwrap();
        let fat = sector_offset(fat_id);
        for i in 0..128 {
            put_u32(&mut b, fat + 4 * i, FREESECT).unwrap();
        }
        for i in 0..data_sectors {
            let next = if i + 1 == data_sectors {
                ENDOFCHAIN
            } else {
                i + 1
            };
            put_u32(&mut b, fat + 4 * i as usize, next).unwrap();
        }
        put_u32(&mut b, fat + 4 * fat_id as usize, FATSECT).unwrap();
        put_u32(&mut b, fat + 4 * dir_id as usize, ENDOFCHAIN).unwrap();
        let root = sector_offset(dir_id);
        put_u32(&mut b, root + 116, ENDOFCHAIN).unwrap();
        b
    }

    #[test]
    fn minifat_is_chained_and_end_is_off_boundary() {
        let out = add_quirks(clean(8), Tail::Slack(100)).unwrap();
        assert_eq!((out.len() - HEADER) % SECTOR, 100);
        let minifat = u32_at(&out, 60).unwrap();
        assert_eq!(minifat, 10);
        assert_eq!(u32_at(&out, 64).unwrap(), 1);
        let fat = sector_offset(8);
        assert_eq!(u32_at(&out, fat + 4 * 10).unwrap(), ENDOFCHAIN);

        let cut = add_quirks(clean(8), Tail::Truncated(200)).unwrap();
        assert_eq!((cut.len() - HEADER) % SECTOR, 200);
    }

    #[test]
    fn full_fat_gets_a_new_fat_sector() {
        // 126 data + FAT + directory = 128 sectors: the FAT is full.
        let out = add_quirks(clean(126), Tail::Slack(8)).unwrap();
        assert_eq!(u32_at(&out, 44).unwrap(), 2);
        assert_eq!(u32_at(&out, 80).unwrap(), 128);
        assert_eq!(u32_at(&out, 60).unwrap(), 129);
        assert_eq!(u32_at(&out, sector_offset(128)).unwrap(), FATSECT);
        assert_eq!(u32_at(&out, sector_offset(128) + 4).unwrap(), ENDOFCHAIN);
    }

    #[test]
    fn rejects_what_it_does_not_understand() {
        assert!(add_quirks(vec![0; 1024], Tail::Slack(1)).is_err());
        let mut b = clean(2);
        b.push(0);
        assert!(add_quirks(b, Tail::Slack(1)).is_err());
        assert!(add_quirks(clean(2), Tail::Slack(0)).is_err());
    }
}
