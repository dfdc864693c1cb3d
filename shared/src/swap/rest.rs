//! The REST catalog's pointer swap: the table update endpoint with its requirements (the server
//! answers 409 on a conflict).

use std::collections::HashMap;

use iceberg::{TableIdent, TableRequirement, TableUpdate};
use serde::Deserialize;

use super::SwapError;
use crate::config::CatalogConfig;

/// A REST catalog commit endpoint (`POST /v1/{prefix}/namespaces/{ns}/tables/{table}`), with the
/// OAuth2 client-credentials token the REST catalog configuration uses. The token is fetched per
/// commit: a warm Lambda container outlives a token (SeaweedFS: 1 h). `Debug` hides the secret.
pub struct RestSwap {
    http: reqwest::Client,
    uri: String,
    base: String,
    credential: Option<(String, String)>,
}

impl std::fmt::Debug for RestSwap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestSwap")
            .field("uri", &self.uri)
            .field("base", &self.base)
            .field("client_id", &self.credential.as_ref().map(|(id, _)| id))
            .finish()
    }
}

#[derive(Deserialize)]
struct RestConfig {
    #[serde(default)]
    overrides: HashMap<String, String>,
    #[serde(default)]
    defaults: HashMap<String, String>,
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
}

impl RestSwap {
    pub(super) async fn open(
        cfg: &CatalogConfig,
        credential: Option<String>,
    ) -> Result<Self, reqwest::Error> {
        let uri = cfg.uri.clone().unwrap_or_default();
        let mut swap = Self {
            http: reqwest::Client::new(),
            uri: uri.trim_end_matches('/').to_string(),
            base: String::new(),
            credential: credential
                .as_deref()
                .and_then(|c| c.split_once(':'))
                .map(|(id, secret)| (id.to_string(), secret.to_string())),
        };
        let mut req = swap
            .http
            .get(format!("{}/v1/config", swap.uri))
            .query(&[("warehouse", cfg.warehouse.as_str())]);
        if let Some(t) = swap.token().await? {
            req = req.bearer_auth(t);
        }
        let conf: RestConfig = req.send().await?.error_for_status()?.json().await?;
        let prefix = conf
            .overrides
            .get("prefix")
            .or_else(|| conf.defaults.get("prefix"));
        swap.base = match prefix {
            Some(p) => format!("{}/v1/{p}", swap.uri),
            None => format!("{}/v1", swap.uri),
        };
        Ok(swap)
    }

    async fn token(&self) -> Result<Option<String>, reqwest::Error> {
        let Some((id, secret)) = &self.credential else {
            return Ok(None);
        };
        let token: Token = self
            .http
            .post(format!("{}/v1/oauth/tokens", self.uri))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("scope", "catalog"),
            ])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(Some(token.access_token))
    }

    pub(super) async fn commit(
        &self,
        ident: &TableIdent,
        requirements: Vec<TableRequirement>,
        updates: Vec<TableUpdate>,
    ) -> Result<(), SwapError> {
        let fail = |message: String| SwapError::Catalog {
            table: ident.to_string(),
            kind: "rest",
            message,
        };
        let ns = ident.namespace().join("\u{1f}");
        let url = format!(
            "{}/namespaces/{}/tables/{}",
            self.base,
            encode(&ns),
            encode(ident.name())
        );
        let body = serde_json::json!({
            "identifier": {"namespace": ident.namespace().as_ref(), "name": ident.name()},
            "requirements": requirements,
            "updates": updates,
        });
        let mut req = self.http.post(url).json(&body);
        if let Some(t) = self.token().await.map_err(|e| fail(e.to_string()))? {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = resp.text().await.unwrap_or_default();
        if status == reqwest::StatusCode::CONFLICT {
            return Err(SwapError::Conflict {
                table: ident.to_string(),
                detail: text,
            });
        }
        Err(fail(format!("HTTP {status}: {text}")))
    }
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
