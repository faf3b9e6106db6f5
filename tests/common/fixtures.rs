//! Repositories more than one suite builds: one holding a token in `.env`, a library whose
//! history held a token and a superproject that has it as a submodule, and the fake tokens they
//! hold (note the `FAKE` tails; shaped like Vobiz auth tokens).

use std::fs;
use std::path::{Path, PathBuf};

use super::{git, write};

/// Fake Vobiz auth tokens, each found by the `vobiz-auth-token` rule under `VOBIZ_AUTH_TOKEN`.
pub const TOKENS: [&str; 3] = [
    "sk_live_4eC39HqLyjWDarjtT1zdp7dcFAKE",
    "sk_live_9Qm2Zr7TkW4pXv8Ln3Bc6Hd1FAKE",
    "sk_live_Xy7Pq2Rs9Tu4Vw1Mn6Kb3Jc8FAKE",
];

/// The token [`library`]'s history holds.
pub const LIBRARY_TOKEN: &str = "sk_live_7Hc2Qp9ZkR4wXv8Nm3Bt6Jd1FAKE";

/// A `.env` file exporting `token` as `VOBIZ_AUTH_TOKEN`.
pub fn env_file(token: &str) -> String {
    format!("# vobiz partner api\nexport VOBIZ_AUTH_TOKEN={token}\n")
}

/// Stages everything in `dir` and commits it.
pub fn commit_all(dir: &Path, msg: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", msg]);
}

/// A repository at `dir/name` with one commit of `.env`: holding `token` when given, else
/// nothing to find.
pub fn repo_with_env(dir: &Path, name: &str, token: Option<&str>) -> PathBuf {
    let p = dir.join(name);
    fs::create_dir_all(&p).unwrap();
    git(&p, &["init", "-q", "."]);
    let body = match token {
        Some(t) => env_file(t),
        None => "nothing to see\n".to_string(),
    };
    write(&p, ".env", body);
    commit_all(&p, "one");
    p
}

/// A library repository at `root/sdk-src` whose history (not its last commit) held
/// [`LIBRARY_TOKEN`] in `config.py`.
pub fn library(root: &Path) -> PathBuf {
    let lib = root.join("sdk-src");
    fs::create_dir_all(&lib).unwrap();
    git(&lib, &["init", "-q", "-b", "main", "."]);
    write(
        &lib,
        "config.py",
        format!(
            "VOBIZ_AUTH_ID = \"partner-7c1e94ab20f3\"\nVOBIZ_AUTH_TOKEN = \"{LIBRARY_TOKEN}\"\n"
        ),
    );
    commit_all(&lib, "configure the client");
    write(
        &lib,
        "config.py",
        "VOBIZ_AUTH_TOKEN = os.environ[\"VOBIZ_AUTH_TOKEN\"]\n",
    );
    commit_all(&lib, "read the token from the environment");
    lib
}

/// A superproject at `root/app` with `lib` as its submodule at `vendor/sdk`, initialised.
pub fn superproject(root: &Path, lib: &Path) -> PathBuf {
    let app = root.join("app");
    fs::create_dir_all(&app).unwrap();
    git(&app, &["init", "-q", "-b", "main", "."]);
    write(&app, "README.md", "An application.\n");
    commit_all(&app, "initial");
    git(
        &app,
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            lib.to_str().unwrap(),
            "vendor/sdk",
        ],
    );
    commit_all(&app, "add the sdk");
    app
}

/// Every file under `dir`, recursively (symbolic links are listed, not followed).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if fs::symlink_metadata(&p).unwrap().is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
