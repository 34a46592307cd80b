//! Files only their owner reads (issue #15): the data folder 0700, the database and its
//! WAL and shared-memory files 0600 on Unix, set when they are created (so the umask does
//! not matter; SQLite gives the `-wal` and `-shm` files the mode of the database file).
//!
//! On Windows these are no-ops: a file in the user's profile (`%APPDATA%`) inherits the
//! profile's ACL (the user, SYSTEM and Administrators); nothing here narrows it (README,
//! "Who can read the files").

use std::path::Path;

/// Creates `dir` and its missing parents, each new one 0700 (an existing folder is left as
/// it is: `--db /tmp/x.db` must not change `/tmp`).
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` empty and 0600 unless it exists (SQLite then opens the file as it is).
pub fn create_file(path: &Path) -> std::io::Result<()> {
    match create_new(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// A new empty file only its owner may read and write (0600 on Unix); fails if it exists.
pub fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Narrows an existing database (and its `-wal`, `-shm`) to 0600, and the default data
/// folder to 0700: files an older version left with the umask's mode. Quiet when not the
/// owner (another user's file stays as its owner set it).
pub fn restrict(db: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            let p = std::path::PathBuf::from(p);
            if std::fs::metadata(&p).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
                let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
            }
        }
        let default_dir = super::default_database_path().parent().map(Path::to_path_buf);
        if let (Some(dir), Some(default_dir)) = (db.parent(), default_dir) {
            if dir == default_dir && std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o077 != 0) {
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
}

/// Sets an existing file to 0600 (a file another library created: a log, a credentials file).
pub fn restrict_file(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}
