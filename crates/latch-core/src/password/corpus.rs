//! An on-disk set of leaked-password digests, built from Have I Been Pwned's "Pwned Passwords"
//! SHA-1 file (`HASH:COUNT` lines, sorted by hash; hundreds of millions of them).
//!
//! Layout: an 8-byte magic, then the first 8 bytes of each SHA-1, sorted, 8 bytes each. A lookup
//! is a binary search with positioned reads (about 30 for a billion entries, served from the page
//! cache), so memory stays flat whatever the corpus size. Keeping 64 of the 160 bits makes a false
//! "breached" answer possible with probability n / 2^64 (about 5e-11 for the full corpus): at
//! worst a password is refused that did not need to be.

use sha1::{Digest, Sha1};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

const MAGIC: &[u8; 8] = b"LATCHPW1";
const ENTRY: u64 = 8;

pub struct Corpus {
    file: File,
    entries: u64,
}

fn prefix(digest: &[u8]) -> [u8; 8] {
    let mut p = [0u8; 8];
    p.copy_from_slice(&digest[..8]);
    p
}

impl Corpus {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let mut magic = [0u8; 8];
        file.read_exact_at(&mut magic, 0)?;
        if &magic != MAGIC {
            return Err(std::io::Error::other(format!(
                "{} is not a Latch breach corpus",
                path.display()
            )));
        }
        let len = file.metadata()?.len();
        Ok(Self {
            file,
            entries: (len - MAGIC.len() as u64) / ENTRY,
        })
    }

    pub fn len(&self) -> u64 {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Whether SHA-1(`password`) is in the set. Blocking file reads: call off the executor.
    pub fn contains_password(&self, password: &str) -> std::io::Result<bool> {
        self.contains(&prefix(&Sha1::digest(password.as_bytes())))
    }

    fn contains(&self, needle: &[u8; 8]) -> std::io::Result<bool> {
        let (mut lo, mut hi) = (0u64, self.entries);
        let mut buf = [0u8; 8];
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            self.file.read_exact_at(&mut buf, MAGIC.len() as u64 + mid * ENTRY)?;
            match buf.cmp(needle) {
                std::cmp::Ordering::Equal => return Ok(true),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        Ok(false)
    }
}

/// Builds a corpus from a Pwned Passwords SHA-1 file. Lines must be sorted by hash, as HIBP
/// publishes them; `progress(bytes_read)` is called now and then. Returns the entry count.
pub fn import(input: impl Read, output: &Path, mut progress: impl FnMut(u64)) -> std::io::Result<u64> {
    let tmp = output.with_extension("partial");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
    out.write_all(MAGIC)?;
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut line = String::new();
    let (mut read, mut count, mut last): (u64, u64, Option<[u8; 8]>) = (0, 0, None);
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = reader.read_line(&mut line)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        line_no += 1;
        let hex = line.trim().split(':').next().unwrap_or("");
        if hex.is_empty() {
            continue;
        }
        if hex.len() != 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(std::io::Error::other(format!("line {line_no}: not a SHA-1 hex digest")));
        }
        let mut p = [0u8; 8];
        for (i, b) in p.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).expect("checked hex");
        }
        match last {
            Some(l) if p < l => {
                return Err(std::io::Error::other(format!(
                    "line {line_no}: hashes are not sorted; sort the file (e.g. `sort -u`) and import again"
                )))
            }
            Some(l) if p == l => continue,
            _ => {}
        }
        out.write_all(&p)?;
        last = Some(p);
        count += 1;
        if count % 1_000_000 == 0 {
            progress(read);
        }
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, output)?;
    progress(read);
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha1_hex(s: &str) -> String {
        Sha1::digest(s.as_bytes()).iter().map(|b| format!("{b:02X}")).collect()
    }

    #[test]
    fn import_and_look_up() {
        let dir = std::env::temp_dir().join(format!("latch-corpus-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut lines: Vec<String> = ["hunter2", "letmein", "correct horse", "Tr0ub4dor&3"]
            .iter()
            .map(|p| format!("{}:42", sha1_hex(p)))
            .collect();
        lines.sort();
        let out = dir.join("corpus.bin");
        let n = import(lines.join("\r\n").as_bytes(), &out, |_| {}).unwrap();
        assert_eq!(n, 4);
        let c = Corpus::open(&out).unwrap();
        assert_eq!(c.len(), 4);
        for p in ["hunter2", "letmein", "correct horse", "Tr0ub4dor&3"] {
            assert!(c.contains_password(p).unwrap(), "{p}");
        }
        for p in ["hunter3", "", "zebra"] {
            assert!(!c.contains_password(p).unwrap(), "{p}");
        }
        let unsorted = format!("{}\n{}\n", lines[3], lines[0]);
        assert!(import(unsorted.as_bytes(), &dir.join("bad.bin"), |_| {}).is_err());
        assert!(import("nothex:1\n".as_bytes(), &dir.join("bad2.bin"), |_| {}).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
