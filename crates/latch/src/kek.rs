//! The key-encryption key that seals secrets at rest (`latch_core::seal`): from `kek`, else
//! `kek_file`, else `<data_dir>/kek`, which a development server generates (0600) on first start.
//! It never goes into the database: a stolen database file alone opens nothing.

use crate::config::{Config, ConfigError};
use latch_core::seal::{self, Sealer};
use secrecy::ExposeSecret;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Where the current key came from, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KekSource {
    Setting,
    File(PathBuf),
    Generated(PathBuf),
}

/// The sealer of the settings' keys.
pub fn sealer(config: &Config) -> Result<(Sealer, KekSource), ConfigError> {
    let (current, source) = current_key(config)?;
    let current = seal::parse_key(&current).map_err(|e| invalid("kek", e))?;
    let previous: Vec<Zeroizing<Vec<u8>>> = match &config.previous_keks {
        None => vec![],
        Some(list) => list
            .expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| seal::parse_key(k).map_err(|e| invalid("previous_keks", e)))
            .collect::<Result<_, _>>()?,
    };
    let previous: Vec<&[u8]> = previous.iter().map(|k| k.as_slice()).collect();
    let sealer = Sealer::new(&current, &previous).map_err(|e| invalid("kek", e))?;
    Ok((sealer, source))
}

fn invalid(key: &str, e: seal::SealError) -> ConfigError {
    ConfigError::Invalid(format!("{key}: {e}"))
}

fn current_key(config: &Config) -> Result<(Zeroizing<String>, KekSource), ConfigError> {
    if let Some(k) = &config.kek {
        return Ok((Zeroizing::new(k.expose_secret().to_string()), KekSource::Setting));
    }
    if let Some(path) = &config.kek_file {
        return Ok((read(path)?, KekSource::File(path.clone())));
    }
    let path = config.data_dir.join("kek");
    match read(&path) {
        Ok(k) => Ok((k, KekSource::File(path))),
        Err(ConfigError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok((generate(&path)?, KekSource::Generated(path)))
        }
        Err(e) => Err(e),
    }
}

fn read(path: &Path) -> Result<Zeroizing<String>, ConfigError> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })
}

/// Writes a new key to `path`, readable by Latch's user only. `create_new`: two servers starting
/// at once on one data directory keep the first key, and the second reads it.
#[cfg(unix)]
fn generate(path: &Path) -> Result<Zeroizing<String>, ConfigError> {
    use std::fs::{DirBuilder, OpenOptions};
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

    let failed = |source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(failed)?;
    }
    let key = seal::generate_key();
    match OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(mut f) => {
            f.write_all(format!("{}\n", key.as_str()).as_bytes()).map_err(failed)?;
            f.sync_all().map_err(failed)?;
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(failed(e)),
    }
}

#[cfg(not(unix))]
fn generate(path: &Path) -> Result<Zeroizing<String>, ConfigError> {
    let key = seal::generate_key();
    std::fs::write(path, format!("{}\n", key.as_str())).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Ok(key)
}

/// Logs where the key came from; a generated one needs the operator's attention.
pub fn report(sealer: &Sealer, source: &KekSource) {
    match source {
        KekSource::Generated(path) => tracing::warn!(
            kek = sealer.current_id(),
            path = %path.display(),
            "generated a key-encryption key for secrets at rest; back it up (without it the database's \
             secrets cannot be read), and give every node of a shared database the same key (kek or kek_file)"
        ),
        KekSource::File(path) => {
            tracing::info!(kek = sealer.current_id(), path = %path.display(), "key-encryption key loaded")
        }
        KekSource::Setting => tracing::info!(kek = sealer.current_id(), "key-encryption key loaded"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn config(dir: &Path) -> Config {
        Config {
            data_dir: dir.to_path_buf(),
            ..Config::default()
        }
    }

    #[test]
    fn a_missing_key_is_generated_once_owner_only_and_reused() {
        let dir = std::env::temp_dir().join(format!("latch-kek-{}", uuid::Uuid::new_v4()));
        let (first, source) = sealer(&config(&dir)).unwrap();
        assert_eq!(source, KekSource::Generated(dir.join("kek")));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("kek")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, source) = sealer(&config(&dir)).unwrap();
        assert_eq!(source, KekSource::File(dir.join("kek")));
        assert_eq!(first.current_id(), again.current_id());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_setting_wins_and_previous_keys_open() {
        let dir = std::env::temp_dir().join(format!("latch-kek-{}", uuid::Uuid::new_v4()));
        let old = seal::generate_key();
        let new = seal::generate_key();
        let (before, _) = sealer(&Config {
            kek: Some(SecretString::from(old.to_string())),
            ..config(&dir)
        })
        .unwrap();
        let sealed = before.seal_str("t.c:1", "v");
        let (after, source) = sealer(&Config {
            kek: Some(SecretString::from(new.to_string())),
            previous_keks: Some(SecretString::from(format!("{}, ", old.as_str()))),
            ..config(&dir)
        })
        .unwrap();
        assert_eq!(source, KekSource::Setting);
        assert_eq!(after.open_str("t.c:1", &sealed).unwrap(), "v");
        assert!(!dir.exists(), "nothing is generated when a key is set");
    }

    #[test]
    fn a_malformed_key_is_refused() {
        let bad = Config {
            kek: Some(SecretString::from("too-short".to_string())),
            ..Config::default()
        };
        assert!(matches!(sealer(&bad), Err(ConfigError::Invalid(m)) if m.starts_with("kek:")));
        let bad_previous = Config {
            kek: Some(SecretString::from(seal::generate_key().to_string())),
            previous_keks: Some(SecretString::from("nope".to_string())),
            ..Config::default()
        };
        assert!(matches!(sealer(&bad_previous), Err(ConfigError::Invalid(m)) if m.starts_with("previous_keks:")));
    }
}
