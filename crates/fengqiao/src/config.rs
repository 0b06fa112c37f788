//! Configuration: defaults, then a TOML file, then `FENGQIAO_…` environment variables, then flags.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The settings every subcommand shares.
#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// `sqlite:PATH` or `postgres://…`; default: SQLite in the data directory.
    pub database: Option<String>,
    /// Where SQLite, keys, the audit checkpoint and attachments live.
    pub data_dir: PathBuf,
    /// Base64 of the 32-byte key for personal data. Required with PostgreSQL; a single SQLite node
    /// generates one into its data directory.
    pub data_key: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// `text` or `json` logs.
    pub log_format: String,
    /// Reverse proxies (nginx …) whose `X-Forwarded-For` names the real client, e.g. `["127.0.0.1"]`.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database", &self.database.as_deref().map(redact_url))
            .field("data_dir", &self.data_dir)
            .field("data_key", &self.data_key.as_ref().map(|_| "<set>"))
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key)
            .field("log_format", &self.log_format)
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            database: None,
            data_dir: PathBuf::from("./fengqiao-data"),
            data_key: None,
            tls_cert: None,
            tls_key: None,
            log_format: "text".into(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// A database URL with any password replaced, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Flags given on the command line (only those set override).
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
}

impl Config {
    /// Loads the layers. A named file must exist; otherwise `fengqiao.toml` is read if present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => {
                anyhow::ensure!(
                    path.exists(),
                    "configuration file {} does not exist",
                    path.display()
                );
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("fengqiao.toml")),
        }
        figment = figment
            .merge(Env::prefixed("FENGQIAO_"))
            .merge(Serialized::globals(overrides));
        Ok(figment.extract()?)
    }

    /// The database URL, defaulting to SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(url) if !url.trim().is_empty() => url.trim().to_string(),
            _ => fengqiao_store::Store::sqlite_url_in(&self.data_dir),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url().starts_with("postgres")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redact_url("postgres://fq:s3cret@127.0.0.1/fq"),
            "postgres://fq:***@127.0.0.1/fq"
        );
        assert_eq!(redact_url("sqlite://./x.db"), "sqlite://./x.db");
        let config = Config {
            data_key: Some("AAAA".into()),
            database: Some("postgres://a:b@h/d".into()),
            ..Config::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("AAAA") && !shown.contains(":b@"), "{shown}");
    }

    #[test]
    fn flags_override_the_environment_and_the_file() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("f.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\ndata_dir = \"/srv/fq\"\ntrusted_proxies = [\"127.0.0.1\"]\n",
        )?;
        let config = Config::load(Some(&file), &Overrides::default())?;
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(
            config.trusted_proxies,
            vec![std::net::IpAddr::from([127, 0, 0, 1])]
        );
        let config = Config::load(
            Some(&file),
            &Overrides {
                listen: Some("127.0.0.1:1".into()),
                ..Overrides::default()
            },
        )?;
        assert_eq!(config.listen, "127.0.0.1:1");
        assert_eq!(config.data_dir, PathBuf::from("/srv/fq"));
        assert!(
            Config::load(
                Some(&dir.path().join("missing.toml")),
                &Overrides::default()
            )
            .is_err()
        );
        Ok(())
    }
}
