//! The database key (issue #15, encryption at rest): the one place where the key of a
//! database file is resolved, and the one way a connection is keyed.
//!
//! A database is a SQLCipher file (AES-256, an HMAC on every page). Its first 16 bytes are
//! SQLCipher's salt, in clear; the rest is ciphertext. The 256-bit key comes from:
//!
//! - a **passphrase** (`RESIDENTDESK_DB_KEY`, the CLI's `--db-key-stdin`, or an explicit
//!   [`KeySource::Passphrase`]): the key is argon2id(passphrase, the file's salt) with fixed
//!   parameters the salt itself names — no sidecar file. A salt made since the parameters
//!   changed ends with [`KDF_TAG`] and takes [`KDF_MEMORY_KIB`], [`KDF_PASSES`],
//!   [`KDF_LANES`]; any other salt is an earlier file's and takes the first version's
//!   [`KDF_V1`], forever (a rekey keeps the salt);
//! - else the **OS keyring** (Secret Service, macOS Keychain, Windows Credential Manager):
//!   a random key in the entry `residentdesk-database` / `<salt in hex>` (the salt is the
//!   database's id: it survives a move of the file and every rekey).
//!
//! A new file gets a fresh random salt; SQLCipher is given key and salt together
//! (`x'<key><salt>'`), so the salt it writes is the one the key was derived with. Backups
//! (`VACUUM INTO`) and rekeys keep the salt, so the same passphrase opens them.
//! A plain (unencrypted) file from an older version still opens, keyless, until
//! `residentdesk db encrypt` converts it.

use rand::RngCore;
use rusqlite::Connection;
use std::path::Path;

/// The passphrase of the database (kiosks, headless machines, CI, the tests).
pub const PASSPHRASE_ENV: &str = "RESIDENTDESK_DB_KEY";
/// Set (to anything) to never use the OS keyring (the sync credentials honour it too).
pub const NO_KEYRING_ENV: &str = "RESIDENTDESK_NO_KEYRING";
/// The keyring service of database keys (the account is the database's salt in hex).
pub const KEYRING_SERVICE: &str = "residentdesk-database";
/// argon2id memory (KiB), passes and lanes for salts ending with [`KDF_TAG`]: the last of
/// OWASP's five equivalent sets (7 MiB, 5 passes: "an equal level of defense" as 19 MiB and
/// 2 passes, with less memory and more passes), as the sign-in uses. The least memory is
/// the point: the key is derived in every CLI command before the database opens, so its
/// memory is part of every command's peak (issue #17: an export under 30 MB).
pub const KDF_MEMORY_KIB: u32 = 7 * 1024;
pub const KDF_PASSES: u32 = 5;
pub const KDF_LANES: u32 = 1;
/// The parameters of a salt without the tag (memory KiB, passes, lanes): the first
/// version's, OWASP's first set. Part of the file format of every file made before the tag.
pub const KDF_V1: (u32, u32, u32) = (19 * 1024, 2, 1);
/// The last 4 bytes of every salt made since the parameters changed (the first 12 are
/// random: 96 bits, ample for a salt). Not text, so a tagged salt never looks like the
/// start of a text file ([`file_state`]). An earlier file's random salt ends with it by
/// chance once in 2^32 files: that file would need its key from the OS keyring or a
/// passphrase change made by an earlier version.
pub const KDF_TAG: [u8; 4] = [0xd7, 0x4b, 0x91, 0x2e];
/// The page size of encrypted databases. SQLCipher cannot read it from the (encrypted)
/// header, so every connection sets it; 16 KiB as for plain files (see [`super::PAGE_SIZE`]).
pub const CIPHER_PAGE_SIZE: i64 = super::PAGE_SIZE;

/// The HMAC of every page. SHA-256, not SQLCipher 4's default SHA-512: with the SHA
/// extensions of current x86 and ARM CPUs it runs twice as fast (1.78 vs 0.86 GB/s on the
/// build machine), which is most of what reading an encrypted page costs; a 256-bit HMAC
/// keeps the same integrity margin for 16 KiB pages. Part of the file format.
pub const CIPHER_HMAC: &str = "HMAC_SHA256";

const SALT_LEN: usize = 16;
const KEY_LEN: usize = 32;
const PLAIN_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Where the key of a database comes from.
#[derive(Clone)]
pub enum KeySource {
    /// The standard way: `RESIDENTDESK_DB_KEY` when set, else the OS keyring (unless
    /// `RESIDENTDESK_NO_KEYRING` is set).
    Standard,
    /// A passphrase given explicitly (the CLI's `--db-key-stdin`, a prompt, tests).
    Passphrase(String),
    /// The OS keyring only.
    Keyring,
    /// No encryption: a new file is created plain (benchmarks compare with it). An
    /// encrypted file is refused with this source.
    Plain,
}

impl std::fmt::Debug for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the passphrase itself.
        f.write_str(match self {
            KeySource::Standard => "Standard",
            KeySource::Passphrase(_) => "Passphrase(..)",
            KeySource::Keyring => "Keyring",
            KeySource::Plain => "Plain",
        })
    }
}

impl KeySource {
    /// The standard source made explicit: the passphrase of `RESIDENTDESK_DB_KEY` when set.
    pub fn from_env() -> KeySource {
        match std::env::var(PASSPHRASE_ENV) {
            Ok(p) => KeySource::Passphrase(p),
            Err(_) => KeySource::Keyring,
        }
    }
}

/// The key a database was opened with; every other connection to the same file (the
/// import's snapshot, the checkpoint thread, a backup check, a restore) is keyed with it.
#[derive(Clone, PartialEq, Eq)]
pub struct DbKey(Option<Secret>);

#[derive(Clone, PartialEq, Eq)]
struct Secret {
    key: [u8; KEY_LEN],
    salt: [u8; SALT_LEN],
}

impl std::fmt::Debug for DbKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "DbKey(encrypted)" } else { "DbKey(plain)" })
    }
}

/// Why a database could not be keyed. Every case leaves the file as it was.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the database {path} is encrypted and no key was given: {why}; give its passphrase in \
         RESIDENTDESK_DB_KEY (or with --db-key-stdin), or use the account whose keyring holds its key; \
         the database was not changed"
    )]
    Missing { path: String, why: String },
    #[error(
        "the key of the database {path} is wrong (it is encrypted with another key or passphrase, or the \
         file is damaged); the database was not changed"
    )]
    Wrong { path: String },
    #[error(
        "no key for the new database {path}: {why}; set a passphrase in RESIDENTDESK_DB_KEY (or give one \
         with --db-key-stdin); nothing was created"
    )]
    NoKeyForNew { path: String, why: String },
    #[error("the database {path} is encrypted; it cannot be opened as a plain database")]
    NotPlain { path: String },
    #[error("the passphrase for {path} is empty; give a passphrase of at least one character")]
    EmptyPassphrase { path: String },
    #[error("cannot read the database {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the file {path} cannot be opened: {reason}; the file was not changed")]
    NotADatabase { path: String, reason: String },
    #[error("the OS keyring could not store the key of {path}: {reason}")]
    Keyring { path: String, reason: String },
    /// The key opened the file but a part of it fails its integrity check (SQLCipher's
    /// per-page HMAC, or SQLite's own structure): altered or cut short.
    #[error("{}", damaged_message(path))]
    Damaged { path: String },
}

/// The words for a damaged database file, shared by the open ([`KeyError::Damaged`]) and a
/// statement that meets a damaged page later (`AppError`'s `db_damaged`).
pub fn damaged_message(path: &str) -> String {
    format!(
        "the database {path} is damaged: a part of it fails its integrity check (it was altered or cut \
         short); nothing was changed by this action; restore the latest backup"
    )
}

/// Whether a statement failed on a damaged file (a page whose HMAC or structure is wrong).
pub fn is_damage(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseCorrupt)
}

/// What a database file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// No file yet, or an empty one: created with a new key.
    New,
    /// A plain SQLite file (an older version's, or made plain on purpose).
    Plain,
    /// A SQLCipher file with this salt.
    Encrypted([u8; SALT_LEN]),
}

/// Reads the first 16 bytes of `path` — through SQLite, never through a file handle of
/// our own: closing any handle of a file drops every POSIX lock this process holds on it,
/// the locks of the other SQLite connections to it included (SQLite's own handles are kept
/// open while a connection of the process holds a lock).
pub fn file_state(path: &Path) -> std::io::Result<FileState> {
    let len = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileState::New),
        Err(e) => return Err(e),
    };
    if len == 0 {
        return Ok(FileState::New);
    }
    if len < SALT_LEN as u64 {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("it is truncated ({len} bytes)")));
    }
    let sql = |e: rusqlite::Error| std::io::Error::other(e.to_string());
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(sql)?;
    // A key (any: nothing is decrypted) makes SQLCipher read the salt from the header.
    conn.pragma_update(None, "key", format!("x'{}'", "00".repeat(KEY_LEN))).map_err(sql)?;
    let salt: String = conn.query_row("PRAGMA cipher_salt", [], |r| r.get(0)).map_err(sql)?;
    let mut head = [0u8; SALT_LEN];
    for (i, b) in head.iter_mut().enumerate() {
        *b = salt.get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("unreadable header ({salt})"))
        })?;
    }
    if &head == PLAIN_MAGIC {
        return Ok(FileState::Plain);
    }
    // An encrypted file looks random, so only what it cannot be tells it from another file:
    // every SQLite file (SQLCipher's too) is whole pages of at least 512 bytes, and a salt
    // of 16 random bytes is text with a chance below one in a million.
    let not_a_database = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidData, why);
    if len % 512 != 0 {
        return Err(not_a_database(format!(
            "it is not a SQLite database, or it is truncated ({len} bytes is not a whole number of pages)"
        )));
    }
    if head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) {
        return Err(not_a_database("it is not a SQLite database (it starts with text)".into()));
    }
    Ok(FileState::Encrypted(head))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

fn unhex(text: &str) -> Option<[u8; KEY_LEN]> {
    let text = text.trim();
    if text.len() != KEY_LEN * 2 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; KEY_LEN];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The argon2id parameters (memory KiB, passes, lanes) a salt names: see [`KDF_TAG`].
pub fn kdf_parameters(salt: &[u8; SALT_LEN]) -> (u32, u32, u32) {
    if salt.ends_with(&KDF_TAG) {
        (KDF_MEMORY_KIB, KDF_PASSES, KDF_LANES)
    } else {
        KDF_V1
    }
}

/// argon2id(passphrase, salt) with the parameters the salt names.
pub fn derive(passphrase: &str, salt: &[u8; SALT_LEN]) -> [u8; KEY_LEN] {
    let (memory, passes, lanes) = kdf_parameters(salt);
    let params = argon2::Params::new(memory, passes, lanes, Some(KEY_LEN)).expect("valid parameters");
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = [0u8; KEY_LEN];
    argon.hash_password_into(passphrase.as_bytes(), salt, &mut key).expect("a 16-byte salt and a 32-byte key");
    key
}

fn keyring_entry(salt: &[u8; SALT_LEN]) -> Result<keyring::Entry, String> {
    if std::env::var_os(NO_KEYRING_ENV).is_some() {
        return Err(format!("the OS keyring is switched off ({NO_KEYRING_ENV} is set)"));
    }
    keyring::Entry::new(KEYRING_SERVICE, &hex(salt)).map_err(|e| format!("no OS keyring answered ({e})"))
}

/// The key of the database at `path` from `source`, without touching the file (a new
/// database's random keyring key is stored in the keyring first, so a file is never
/// created with a key kept nowhere). The key is checked when a connection is keyed.
pub fn resolve(path: &Path, source: &KeySource) -> Result<DbKey, KeyError> {
    let shown = path.display().to_string();
    let state = file_state(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => KeyError::NotADatabase { path: shown.clone(), reason: e.to_string() },
        _ => KeyError::Read { path: shown.clone(), reason: e.to_string() },
    })?;
    let source = match source {
        KeySource::Standard => KeySource::from_env(),
        other => other.clone(),
    };
    let passphrase = |p: &str| {
        if p.is_empty() {
            Err(KeyError::EmptyPassphrase { path: shown.clone() })
        } else {
            Ok(())
        }
    };
    match (state, source) {
        (FileState::Plain, _) => Ok(DbKey(None)),
        (FileState::New, KeySource::Plain) => Ok(DbKey(None)),
        (FileState::Encrypted(_), KeySource::Plain) => Err(KeyError::NotPlain { path: shown }),
        (FileState::New, KeySource::Passphrase(p)) => {
            passphrase(&p)?;
            let salt = random_salt();
            Ok(DbKey(Some(Secret { key: derive(&p, &salt), salt })))
        }
        (FileState::Encrypted(salt), KeySource::Passphrase(p)) => {
            passphrase(&p)?;
            Ok(DbKey(Some(Secret { key: derive(&p, &salt), salt })))
        }
        (FileState::New, _) => {
            let salt = random_salt();
            let mut key = [0u8; KEY_LEN];
            rand::rng().fill_bytes(&mut key);
            let entry = keyring_entry(&salt).map_err(|why| KeyError::NoKeyForNew { path: shown.clone(), why })?;
            entry.set_password(&hex(&key)).map_err(|e| KeyError::NoKeyForNew {
                path: shown.clone(),
                why: format!("no OS keyring answered ({e})"),
            })?;
            Ok(DbKey(Some(Secret { key, salt })))
        }
        (FileState::Encrypted(salt), _) => {
            let entry = keyring_entry(&salt).map_err(|why| KeyError::Missing { path: shown.clone(), why })?;
            let text = entry.get_password().map_err(|e| KeyError::Missing {
                path: shown.clone(),
                why: match e {
                    keyring::Error::NoEntry => "the OS keyring holds no key for it".to_string(),
                    e => format!("no OS keyring answered ({e})"),
                },
            })?;
            let key = unhex(&text).ok_or_else(|| KeyError::Missing {
                path: shown.clone(),
                why: "its keyring entry does not hold a key".into(),
            })?;
            Ok(DbKey(Some(Secret { key, salt })))
        }
    }
}

/// A new file's salt: 12 random bytes and [`KDF_TAG`].
fn random_salt() -> [u8; SALT_LEN] {
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt[..SALT_LEN - KDF_TAG.len()]);
    salt[SALT_LEN - KDF_TAG.len()..].copy_from_slice(&KDF_TAG);
    salt
}

/// What the keyring held for a database before [`store_in_keyring`] replaced it, to put
/// back when the change it was for failed.
#[derive(Debug)]
pub struct PreviousEntry(Option<String>);

/// Stores a key in the OS keyring for its database (`db encrypt`/`db rekey` to a keyring
/// key), before the file is changed: a file is never keyed with a key kept nowhere.
pub fn store_in_keyring(path: &Path, key: &DbKey) -> Result<PreviousEntry, KeyError> {
    let Some(secret) = &key.0 else { return Ok(PreviousEntry(None)) };
    let keyring_error = |reason: String| KeyError::Keyring { path: path.display().to_string(), reason };
    let entry = keyring_entry(&secret.salt).map_err(keyring_error)?;
    let previous = entry.get_password().ok();
    entry.set_password(&hex(&secret.key)).map_err(|e| keyring_error(e.to_string()))?;
    Ok(PreviousEntry(previous))
}

/// Puts back what the keyring held before [`store_in_keyring`] (the change failed).
pub fn restore_keyring_entry(key: &DbKey, previous: PreviousEntry) {
    let Some(secret) = &key.0 else { return };
    if let Ok(entry) = keyring_entry(&secret.salt) {
        let _ = match previous.0 {
            Some(text) => entry.set_password(&text),
            None => entry.delete_credential(),
        };
    }
}

/// Forgets the keyring entry of a database's salt (after a rekey to a passphrase); quiet
/// when there is none or no keyring answers.
pub fn forget_keyring_entry(key: &DbKey) {
    if let Some(secret) = &key.0 {
        if let Ok(entry) = keyring_entry(&secret.salt) {
            let _ = entry.delete_credential();
        }
    }
}

impl DbKey {
    /// No key: a plain database (in memory, or an unencrypted file).
    pub fn plain() -> DbKey {
        DbKey(None)
    }

    pub fn is_encrypted(&self) -> bool {
        self.0.is_some()
    }

    /// A new key for the file whose salt this key has: from a passphrase (argon2id with
    /// the same salt), or random for the keyring (`None`).
    /// A plain database gets a new salt.
    pub fn with_new_secret(&self, passphrase: Option<&str>) -> DbKey {
        let salt = self.0.as_ref().map_or_else(random_salt, |s| s.salt);
        let key = match passphrase {
            Some(p) => derive(p, &salt),
            None => {
                let mut key = [0u8; KEY_LEN];
                rand::rng().fill_bytes(&mut key);
                key
            }
        };
        DbKey(Some(Secret { key, salt }))
    }

    /// `x'<key><salt>'`: SQLCipher's raw key with its salt (no PBKDF2 of its own).
    fn spec(&self) -> Option<String> {
        self.0.as_ref().map(|s| format!("x'{}{}'", hex(&s.key), hex(&s.salt)))
    }

    /// Keys `conn` (before anything reads it), sets the cipher page size, and proves the
    /// key by reading the schema: a wrong key fails here, before any write.
    pub fn apply(&self, conn: &Connection, path: &Path) -> Result<(), KeyError> {
        let Some(spec) = self.spec() else { return Ok(()) };
        let wrong = || KeyError::Wrong { path: path.display().to_string() };
        let read = |e: rusqlite::Error| {
            let path = path.display().to_string();
            if is_damage(&e) {
                KeyError::Damaged { path }
            } else {
                KeyError::Read { path, reason: e.to_string() }
            }
        };
        // SQLCipher's default for databases attached by this connection (`VACUUM INTO`).
        conn.pragma_update(None, "cipher_default_page_size", CIPHER_PAGE_SIZE).map_err(read)?;
        conn.pragma_update(None, "cipher_default_hmac_algorithm", CIPHER_HMAC).map_err(read)?;
        conn.pragma_update(None, "key", &spec).map_err(read)?;
        // SQLCipher prints a failed HMAC check on stderr; the error says it in words.
        conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(())).map_err(read)?;
        conn.pragma_update(None, "cipher_page_size", CIPHER_PAGE_SIZE).map_err(read)?;
        conn.pragma_update(None, "cipher_hmac_algorithm", CIPHER_HMAC).map_err(read)?;
        // Until the key is proven, closing this connection must not fold a WAL left by an
        // earlier process into the file: a checkpoint copies pages as they are, so even a
        // wrong key could, and a refused key must change no byte.
        use rusqlite::config::DbConfig;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true).map_err(read)?;
        match conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())) {
            Ok(()) => {
                conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false).map_err(read)?;
                Ok(())
            }
            Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) => Err(wrong()),
            Err(e) => Err(read(e)),
        }
    }

    /// `ATTACH DATABASE ?1 AS <name> KEY <this key>` (an empty key for a plain file).
    pub fn attach(&self, conn: &Connection, file: &Path, name: &str) -> rusqlite::Result<()> {
        let spec = self.spec().unwrap_or_default();
        conn.execute(&format!("ATTACH DATABASE ?1 AS {name} KEY ?2"), rusqlite::params![file.to_string_lossy(), spec])?;
        if self.is_encrypted() {
            conn.pragma_update(Some(name), "cipher_page_size", CIPHER_PAGE_SIZE)?;
            conn.pragma_update(Some(name), "cipher_hmac_algorithm", CIPHER_HMAC)?;
        }
        Ok(())
    }

    /// `PRAGMA rekey`: rewrites every page of `conn`'s database under this key (same salt).
    pub fn rekey(&self, conn: &Connection) -> rusqlite::Result<()> {
        let spec = self.spec().unwrap_or_default();
        conn.pragma_update(None, "rekey", &spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_cannot_be_a_database_is_told_from_an_encrypted_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = dir.path().join("notes.db");
        std::fs::write(&text, "Name,Unit\n".repeat(512)).expect("write");
        let odd = dir.path().join("odd.db");
        std::fs::write(&odd, [0x9cu8; 1000]).expect("write");
        let pages = dir.path().join("pages.db");
        std::fs::write(&pages, (0..4096u32).map(|i| (i * 37 % 251) as u8).collect::<Vec<u8>>()).expect("write");
        for (file, why) in [(&text, "starts with text"), (&odd, "not a whole number of pages")] {
            let err = file_state(file).expect_err("not a database");
            assert!(err.to_string().contains(why), "{err}");
            let err = resolve(file, &KeySource::Passphrase("p".into())).expect_err("refused");
            assert!(matches!(err, KeyError::NotADatabase { .. }), "{err}");
        }
        assert!(matches!(file_state(&pages), Ok(FileState::Encrypted(_))));
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_a_key() {
        let key = [0xa5u8; KEY_LEN];
        assert_eq!(unhex(&hex(&key)), Some(key));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex(&"zz".repeat(KEY_LEN)), None);
    }

    #[test]
    fn the_same_passphrase_and_salt_give_the_same_key_and_another_salt_another() {
        let a = derive("Crème brûlée — 鍵", &[1; SALT_LEN]);
        assert_eq!(a, derive("Crème brûlée — 鍵", &[1; SALT_LEN]));
        assert_ne!(a, derive("Crème brûlée — 鍵", &[2; SALT_LEN]));
        assert_ne!(a, derive("Creme brulee", &[1; SALT_LEN]));
    }

    #[test]
    fn a_new_salt_names_todays_parameters_and_an_earlier_files_salt_keeps_the_first() {
        let dir = tempfile::tempdir().expect("temp dir");
        let phrase = KeySource::Passphrase("an earlier desk's passphrase".into());
        // A new file: its salt carries the tag, and its key is today's derivation.
        let new = resolve(&dir.path().join("new.db"), &phrase).expect("a new file's key");
        let salt = new.0.as_ref().expect("encrypted").salt;
        assert!(salt.ends_with(&KDF_TAG));
        assert_eq!(kdf_parameters(&salt), (KDF_MEMORY_KIB, KDF_PASSES, KDF_LANES));
        assert_ne!(salt, random_salt(), "the salt is not random");
        // A file as the first version made it: a random salt, 19 MiB and 2 passes.
        let old_salt: [u8; SALT_LEN] = *b"\x01\x82\x03\x84\x05\x86\x07\x88\x09\x8a\x0b\x8c\x0d\x8e\x0f\x90";
        assert_eq!(kdf_parameters(&old_salt), KDF_V1);
        let params = argon2::Params::new(KDF_V1.0, KDF_V1.1, KDF_V1.2, Some(KEY_LEN)).unwrap();
        let mut v1_key = [0u8; KEY_LEN];
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password_into(b"an earlier desk's passphrase", &old_salt, &mut v1_key)
            .unwrap();
        let old_path = dir.path().join("old.db");
        let old = DbKey(Some(Secret { key: v1_key, salt: old_salt }));
        {
            let conn = Connection::open(&old_path).unwrap();
            old.apply(&conn, &old_path).unwrap();
            conn.execute_batch("CREATE TABLE kept (x); INSERT INTO kept VALUES (42);").unwrap();
        }
        // Opened today with the same passphrase: the salt picks the first version's derivation.
        let again = resolve(&old_path, &phrase).expect("the earlier file's key");
        assert_eq!(again, old);
        let conn = Connection::open(&old_path).unwrap();
        again.apply(&conn, &old_path).expect("the earlier file opens");
        assert_eq!(conn.query_row("SELECT x FROM kept", [], |r| r.get::<_, i64>(0)).unwrap(), 42);
        // Today's parameters would not have opened it.
        let todays = argon2::Params::new(KDF_MEMORY_KIB, KDF_PASSES, KDF_LANES, Some(KEY_LEN)).unwrap();
        let mut v2_key = [0u8; KEY_LEN];
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, todays)
            .hash_password_into(b"an earlier desk's passphrase", &old_salt, &mut v2_key)
            .unwrap();
        assert_ne!(v1_key, v2_key);
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let shown = format!("{:?} {:?}", KeySource::Passphrase("hunter2".into()), DbKey::plain().with_new_secret(None));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(shown, "Passphrase(..) DbKey(encrypted)");
    }
}
