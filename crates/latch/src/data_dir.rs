//! The embedded SQLite database's directory and files, readable by Latch's own user only.
//!
//! They hold the signing keys' private halves, TOTP secrets and, while the development outbox is
//! used, live codes and reset tokens: under the usual umask 022 they would be world-readable. The
//! directory is created 0700 and `latch.db` 0600 before SQLite opens it; SQLite gives `-wal` and
//! `-shm` the database file's mode. An existing deployment's files are tightened to 0600 at start
//! (nothing but Latch should read a live database); a directory open to others is only reported,
//! since it may be shared with other things.

use std::path::Path;

/// The files SQLite keeps for one database in WAL mode.
const DB_FILES: [&str; 3] = ["latch.db", "latch.db-wal", "latch.db-shm"];

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct DataDirError {
    path: String,
    source: std::io::Error,
}

fn at(path: &Path) -> impl FnOnce(std::io::Error) -> DataDirError + '_ {
    move |source| DataDirError {
        path: path.display().to_string(),
        source,
    }
}

/// Creates `dir` and an empty `latch.db` in it if missing, with owner-only modes, and makes the
/// database files owner-only; logs a warning for whatever is more open than that.
#[cfg(unix)]
pub fn prepare(dir: &Path) -> Result<(), DataDirError> {
    use std::fs::{DirBuilder, OpenOptions, Permissions};
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(at(dir))?;
    let mode = std::fs::metadata(dir).map_err(at(dir))?.permissions().mode();
    if too_open(mode) {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{:o}", mode & 0o777),
            "the data directory is open to other users; it holds signing keys and secrets: chmod 700 it"
        );
    }
    let db = dir.join(DB_FILES[0]);
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(&db) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(at(&db)(e)),
    }
    for name in DB_FILES {
        let file = dir.join(name);
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        let mode = meta.permissions().mode();
        if !too_open(mode) {
            continue;
        }
        match std::fs::set_permissions(&file, Permissions::from_mode(0o600)) {
            Ok(()) => tracing::warn!(
                file = %file.display(),
                was = format!("{:o}", mode & 0o777),
                "database file was open to other users; set to 600"
            ),
            Err(e) => tracing::warn!(
                file = %file.display(),
                mode = format!("{:o}", mode & 0o777),
                error = %e,
                "database file is open to other users and could not be set to 600"
            ),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn prepare(dir: &Path) -> Result<(), DataDirError> {
    std::fs::create_dir_all(dir).map_err(at(dir))
}

/// Whether a mode grants anything to the group or to others.
fn too_open(mode: u32) -> bool {
    mode & 0o077 != 0
}

#[cfg(test)]
mod tests {
    use super::too_open;

    #[test]
    fn only_owner_only_modes_pass() {
        assert!(!too_open(0o700));
        assert!(!too_open(0o600));
        assert!(!too_open(0o40700));
        assert!(too_open(0o644));
        assert!(too_open(0o710));
        assert!(too_open(0o601));
    }
}
