//! `ferromq passwd`: manage a mosquitto password file as `mosquitto_passwd`
//! does: add or update a user (`-b` with the password on the command line,
//! else asked twice), create the file (`-c`), delete a user (`-D`), hash a
//! plain-text file in place (`-U`); `-H sha512` writes the older `$6$` hash.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::Path;

use ferromq::broker::auth::password::{HashKind, PasswordHash, SALT_LEN};

pub fn usage() -> String {
    "usage: ferromq passwd [-H sha512 | -H sha512-pbkdf2] [-c | -D] FILE USER\n\
     \x20      ferromq passwd [-H sha512 | -H sha512-pbkdf2] [-c] -b FILE USER PASSWORD\n\
     \x20      ferromq passwd -U FILE\n\
     \x20 -b  batch: the password is on the command line\n\
     \x20 -c  create FILE (an existing one is overwritten)\n\
     \x20 -D  delete USER\n\
     \x20 -H  hash: sha512-pbkdf2 ($7$, the default) or sha512 ($6$)\n\
     \x20 -U  hash every plain-text password of FILE in place"
        .to_string()
}

pub fn run(args: &[String]) -> Result<(), String> {
    let (mut batch, mut create, mut delete, mut update) = (false, false, false, false);
    let mut kind = HashKind::Pbkdf2Sha512;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-b" => batch = true,
            "-c" => create = true,
            "-D" => delete = true,
            "-U" => update = true,
            "-H" => {
                kind = match it.next().map(String::as_str) {
                    Some("sha512") => HashKind::Sha512,
                    Some("sha512-pbkdf2") => HashKind::Pbkdf2Sha512,
                    _ => return Err(format!("-H: sha512 or sha512-pbkdf2\n{}", usage())),
                }
            }
            "-h" | "--help" => return Err(usage()),
            s if s.starts_with('-') && s.len() > 1 => {
                return Err(format!("unknown option '{s}'\n{}", usage()));
            }
            _ => rest.push(a.as_str()),
        }
    }
    if create && delete {
        return Err("-c and -D cannot be used together".into());
    }
    if update {
        let [file] = rest[..] else {
            return Err(usage());
        };
        return hash_plain_file(Path::new(file), kind);
    }
    let (file, user, password) = match (batch, &rest[..]) {
        (true, [f, u, p]) if !delete => (*f, *u, Some(p.to_string())),
        (false, [f, u]) => (*f, *u, None),
        _ => return Err(usage()),
    };
    if user.contains(':') || user.is_empty() {
        return Err("a username must not be empty or contain ':'".into());
    }
    let path = Path::new(file);
    let mut lines: Vec<String> = if create {
        Vec::new()
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| format!("{file}: {e}"))?
            .lines()
            .map(str::to_string)
            .collect()
    };
    let is_user = |l: &str| l.split_once(':').is_some_and(|(u, _)| u == user);
    if delete {
        let before = lines.len();
        lines.retain(|l| !is_user(l));
        if lines.len() == before {
            return Err(format!("user '{user}' not found"));
        }
    } else {
        let password = match password {
            Some(p) => p,
            None => ask_password()?,
        };
        let line = format!("{user}:{}", hash(kind, password.as_bytes())?);
        match lines.iter_mut().find(|l| is_user(l)) {
            Some(l) => *l = line,
            None => lines.push(line),
        }
    }
    write_file(path, &lines)
}

fn hash(kind: HashKind, password: &[u8]) -> Result<PasswordHash, String> {
    let mut salt = [0u8; SALT_LEN];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt))
        .map_err(|e| format!("cannot read random bytes: {e}"))?;
    Ok(PasswordHash::new(kind, password, &salt))
}

/// `-U`: every `user:password` line whose password is not a hash yet.
fn hash_plain_file(path: &Path, kind: HashKind) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut lines = Vec::new();
    for line in text.lines() {
        match line.split_once(':') {
            Some((user, pw)) if !line.starts_with('#') && PasswordHash::parse(pw).is_err() => {
                lines.push(format!("{user}:{}", hash(kind, pw.as_bytes())?));
            }
            _ => lines.push(line.to_string()),
        }
    }
    write_file(path, &lines)
}

/// Replace the file (through a temporary file and a rename); a new file is
/// readable by its owner only, an existing one keeps its mode.
fn write_file(path: &Path, lines: &[String]) -> Result<(), String> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mode = std::fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o7777);
    let tmp = path.with_extension("tmp-ferromq");
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
            f.sync_all()
        })
        .and_then(|_| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

/// The password, asked twice (without echo on a terminal).
fn ask_password() -> Result<String, String> {
    let first = prompt("Password: ")?;
    let second = prompt("Reenter password: ")?;
    if first != second {
        return Err("Passwords do not match.".into());
    }
    Ok(first)
}

fn prompt(what: &str) -> Result<String, String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    eprint!("{what}");
    let _ = std::io::stderr().flush();
    let saved = if tty { echo_off() } else { None };
    let mut line = String::new();
    let r = stdin.lock().read_line(&mut line);
    if let Some(t) = saved {
        restore(&t);
        eprintln!();
    }
    match r {
        Ok(0) => Err("no password given".into()),
        Ok(_) => Ok(line.trim_end_matches(['\n', '\r']).to_string()),
        Err(e) => Err(format!("cannot read the password: {e}")),
    }
}

/// Turns terminal echo off on stdin; returns the settings to restore.
fn echo_off() -> Option<libc::termios> {
    // SAFETY: termios is plain data that tcgetattr fills in.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd 0 is stdin; `t` is a valid, exclusively borrowed termios.
    if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
        return None;
    }
    let mut quiet = t;
    quiet.c_lflag &= !libc::ECHO;
    // SAFETY: fd 0 is stdin; `quiet` is an initialised termios.
    unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) };
    Some(t)
}

fn restore(t: &libc::termios) {
    // SAFETY: fd 0 is stdin; `t` holds the settings tcgetattr returned.
    unsafe { libc::tcsetattr(0, libc::TCSANOW, t) };
}
