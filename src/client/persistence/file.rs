//! MQTTCLIENT_PERSISTENCE_DEFAULT: Paho C's file store. One directory per
//! client, `<context>/<clientID>-<serverURI with ':' as '-'>`, one file per
//! record named `<key>.msg`. Unlike Paho, every record is written whole or
//! not at all: a temporary file, fsync, rename, fsync of the directory. The
//! temporary files live in a subdirectory, which Paho's store ignores (it
//! lists regular files only), so a crash mid-write leaves nothing there
//! that Paho would choke on.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use super::{Store, StoreError};
use crate::client::trace::{self, trace};

/// Paho's file name extension for a record.
const EXTENSION: &str = ".msg";
/// The subdirectory of the client's directory holding records being written.
const TEMP_DIR: &str = ".ferromq-tmp";

/// The default file store of one client.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
}

fn err(what: &str, path: &Path, e: &io::Error) -> StoreError {
    StoreError::new(format!("{what} {}: {e}", path.display()))
}

/// The directory Paho uses for `client_id` and `server_uri` (already
/// without its scheme) under `base` (None: the current directory).
pub fn client_dir(base: Option<&Path>, client_id: &str, server_uri: &str) -> PathBuf {
    let base = base.unwrap_or(Path::new("."));
    base.join(format!("{client_id}-{}", server_uri.replace(':', "-")))
}

impl FileStore {
    /// Open (creating as needed, owner rwx and group r as Paho does) the
    /// directory of one client, and remove temporary files a crash left.
    pub fn open(
        base: Option<&Path>,
        client_id: &str,
        server_uri: &str,
    ) -> Result<FileStore, StoreError> {
        let dir = client_dir(base, client_id, server_uri);
        DirBuilder::new()
            .recursive(true)
            .mode(0o740)
            .create(&dir)
            .map_err(|e| err("cannot create", &dir, &e))?;
        let store = FileStore { dir };
        if let Ok(rd) = fs::read_dir(store.dir.join(TEMP_DIR)) {
            for entry in rd.flatten() {
                trace!(
                    trace::ERROR,
                    "persistence: removing {} (a write cut short)",
                    entry.path().display()
                );
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(store)
    }

    /// The client's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}{EXTENSION}"))
    }

    /// Names of the regular files in the directory.
    fn file_names(&self) -> Result<Vec<String>, StoreError> {
        let rd = fs::read_dir(&self.dir).map_err(|e| err("cannot list", &self.dir, &e))?;
        let mut names = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| err("cannot list", &self.dir, &e))?;
            let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            if let (true, Ok(name)) = (is_file, entry.file_name().into_string()) {
                names.push(name);
            }
        }
        Ok(names)
    }
}

impl Store for FileStore {
    fn put(&mut self, key: &str, parts: &[&[u8]]) -> Result<(), StoreError> {
        let temp_dir = self.dir.join(TEMP_DIR);
        let temp = temp_dir.join(format!("{key}{EXTENSION}"));
        let path = self.path(key);
        let write = || -> io::Result<()> {
            match DirBuilder::new().mode(0o740).create(&temp_dir) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                _ => {}
            }
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&temp)?;
            for p in parts {
                f.write_all(p)?;
            }
            f.sync_all()?;
            fs::rename(&temp, &path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&temp);
            err("cannot write", &path, &e)
        })
    }

    fn get(&mut self, key: &str) -> Result<Vec<u8>, StoreError> {
        let path = self.path(key);
        fs::read(&path).map_err(|e| err("cannot read", &path, &e))
    }

    fn remove(&mut self, key: &str) -> Result<(), StoreError> {
        let path = self.path(key);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(err("cannot remove", &path, &e)),
            _ => Ok(()),
        }
    }

    /// As Paho: every regular file, its name cut at the first ".msg".
    fn keys(&mut self) -> Result<Vec<String>, StoreError> {
        let mut keys: Vec<String> = self
            .file_names()?
            .into_iter()
            .map(|n| match n.find(EXTENSION) {
                Some(i) => n[..i].to_string(),
                None => n,
            })
            .collect();
        keys.sort();
        Ok(keys)
    }

    fn clear(&mut self) -> Result<(), StoreError> {
        for name in self.file_names()? {
            let path = self.dir.join(name);
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(err("cannot remove", &path, &e));
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn contains_key(&mut self, key: &str) -> bool {
        self.path(key).is_file()
    }

    /// As Paho: the directory goes when it is empty.
    fn close(&mut self) -> Result<(), StoreError> {
        let _ = fs::remove_dir(self.dir.join(TEMP_DIR));
        match fs::remove_dir(&self.dir) {
            Err(e)
                if e.kind() != io::ErrorKind::NotFound
                    && e.kind() != io::ErrorKind::DirectoryNotEmpty =>
            {
                Err(err("cannot remove", &self.dir, &e))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_pahos() {
        let base = Path::new("/b");
        assert_eq!(
            client_dir(Some(base), "cid", "127.0.0.1:1883"),
            Path::new("/b/cid-127.0.0.1-1883")
        );
        assert_eq!(client_dir(None, "c", "h:3/p"), Path::new("./c-h-3/p"));
    }

    #[test]
    fn put_get_keys_remove_clear_close() {
        let t = tempfile::tempdir().unwrap();
        let mut s = FileStore::open(Some(t.path()), "id", "h:1").unwrap();
        let dir = t.path().join("id-h-1");
        assert!(dir.is_dir());
        s.put("s-1", &[b"ab", b"cd"]).unwrap();
        s.put("sc-1", &[b"x"]).unwrap();
        assert_eq!(fs::read(dir.join("s-1.msg")).unwrap(), b"abcd");
        assert_eq!(s.get("s-1").unwrap(), b"abcd");
        assert!(s.get("s-9").is_err());
        assert!(s.contains_key("sc-1") && !s.contains_key("s-9"));
        assert_eq!(s.keys().unwrap(), vec!["s-1", "sc-1"]);
        s.remove("sc-1").unwrap();
        s.remove("sc-1").unwrap();
        assert_eq!(s.keys().unwrap(), vec!["s-1"]);
        s.close().unwrap();
        assert!(dir.is_dir(), "a directory with records stays");
        s.clear().unwrap();
        assert!(s.keys().unwrap().is_empty());
        s.close().unwrap();
        assert!(!dir.exists(), "an empty directory goes");
    }

    #[test]
    fn leftover_temp_files_are_removed_at_open() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("id-h-1");
        fs::create_dir_all(dir.join(TEMP_DIR)).unwrap();
        fs::write(dir.join(TEMP_DIR).join("s-4.msg"), b"torn").unwrap();
        fs::write(dir.join("s-3.msg"), b"").unwrap();
        let mut s = FileStore::open(Some(t.path()), "id", "h:1").unwrap();
        assert!(!dir.join(TEMP_DIR).join("s-4.msg").exists());
        assert_eq!(s.keys().unwrap(), vec!["s-3"]);
        s.clear().unwrap();
        s.close().unwrap();
        assert!(!dir.exists(), "the temporary directory goes too");
    }
}
