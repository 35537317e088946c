//! The agent's identity on disk: id, claim token and key, in a file only
//! its owner may read (0600), replaced atomically.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub agent_id: Uuid,
    /// The secret an operator claims the agent with.
    pub claim_token: String,
    /// The agent's key, once the server handed it over.
    pub api_key: Option<String>,
}

impl State {
    /// A new identity: a UUIDv7 and 32 random bytes as claim token.
    pub fn fresh() -> State {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source");
        State { agent_id: Uuid::now_v7(), claim_token: hex::encode(bytes), api_key: None }
    }

    pub fn claim_token_hash(&self) -> String {
        hex::encode(Sha256::digest(self.claim_token.as_bytes()))
    }
}

pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(dir: &Path) -> StateFile {
        StateFile { path: dir.join("state.json") }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved state; `None` when there is none yet.
    pub fn load(&self) -> Result<Option<State>, String> {
        match fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                format!("the state file {} is damaged ({e}); remove it to enrol again", self.path.display())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read the state file {}: {e}", self.path.display())),
        }
    }

    /// Writes the state to a temporary file (0600) and renames it over the old one.
    pub fn save(&self, state: &State) -> Result<(), String> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(state).map_err(|e| e.to_string())?;
        let write = || -> std::io::Result<()> {
            let _ = fs::remove_file(&tmp);
            let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| format!("cannot write the state file {}: {e}", self.path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_only_for_the_owner() {
        let dir = std::env::temp_dir().join(format!("sigma-agent-state-{}", Uuid::now_v7()));
        let file = StateFile::new(&dir);
        assert_eq!(file.load().unwrap(), None);
        let mut s = State::fresh();
        assert_eq!(s.agent_id.get_version_num(), 7);
        assert_eq!(s.claim_token.len(), 64);
        file.save(&s).unwrap();
        s.api_key = Some("sga_x".into());
        file.save(&s).unwrap();
        assert_eq!(file.load().unwrap(), Some(s.clone()));
        let mode = fs::metadata(file.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_ne!(State::fresh().claim_token, s.claim_token);
        fs::write(file.path(), "{").unwrap();
        assert!(file.load().unwrap_err().contains("damaged"));
    }
}
